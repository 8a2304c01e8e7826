// The agreement's unit (甲方) and terms fields, shared by the employer's invitation and the
// graduate's own application (线下签约) and registration of a paper agreement (补登).
import { CODE, DIGITS, PHONE, field, h, input, select } from '../ui.js';
import { codes } from '../codes.js';

export function unitFields() {
  return [
    field('单位名称', input('unit.name', { required: true })),
    field('统一社会信用代码', input('unit.credit_code', { required: true, maxlength: 18, ...CODE })),
    field('单位性质', select('unit.nature', codes().employer_natures, '', { blank: '请选择' })),
    field('单位行业', select('unit.industry', codes().industries, '', { blank: '请选择' })),
    field('单位所在地（6位行政区划代码）', input('unit.region', { required: true, maxlength: 6, ...DIGITS })),
    field('单位地址（选填）', input('unit.address', { maxlength: 200 })),
  ];
}

export function termsFields(prefix = '') {
  return [
    field('工作职位类别', select(`${prefix}position_category`, codes().position_categories, '', { blank: '请选择' })),
    field('岗位名称', input(`${prefix}job_title`, { required: true })),
    field('工作地区（6位行政区划代码）', input(`${prefix}work_region`, { required: true, maxlength: 6, ...DIGITS })),
    field('工作地点', input(`${prefix}work_place`, { required: true })),
    field('月薪（元）', input(`${prefix}monthly_salary`, { type: 'number', min: 0, required: true })),
    field('合同期限（月）', input(`${prefix}contract_months`, { type: 'number', min: 0, required: true })),
    field('试用期（月）', input(`${prefix}probation_months`, { type: 'number', min: 0, value: 0, required: true })),
    field('联系人', input(`${prefix}contact_person`, { required: true })),
    field('联系电话', input(`${prefix}contact_phone`, { required: true, ...PHONE })),
    field('档案转寄（选填）', input(`${prefix}archive_destination`)),
    field('户口迁转（选填）', input(`${prefix}hukou_destination`)),
    field('补充条款（选填）', h('textarea', { name: `${prefix}remarks`, rows: 2 })),
  ];
}

// Puts {unit: {...}, terms: {...}} into the inputs named "unit.x" and "terms.x" (their defaults too,
// so that a reset comes back to what was submitted).
export function fillForm(form, groups) {
  for (const [group, values] of Object.entries(groups)) {
    for (const [key, value] of Object.entries(values || {})) {
      const element = form.querySelector(`[name="${CSS.escape(`${group}.${key}`)}"]`);
      if (!element || value === null || value === undefined) continue;
      if (element.tagName === 'SELECT') {
        for (const option of element.options) option.defaultSelected = option.value === String(value);
      }
      element.value = String(value);
      if ('defaultValue' in element && element.tagName !== 'SELECT') element.defaultValue = String(value);
    }
  }
}

// Form values named "unit.x" and "terms.x" as {unit: {...}, terms: {...}}; blanks left out.
export function splitValues(values) {
  const out = { unit: {}, terms: {} };
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || value === null || value === undefined) continue;
    const [group, key] = name.includes('.') ? name.split('.', 2) : [null, name];
    if (group && out[group]) out[group][key] = value;
    else out[name] = value;
  }
  return out;
}
