"""Record bodies as the platform sends them."""


def destination(**overrides):
    body = {"school_code": "10558", "name": "张三", "graduation_year": 2026, "education_level": "31",
            "platform_version": 1, "destination_code": "10",
            "unit_name": "广州示例信息科技有限公司", "credit_code": "91440101MA59TEST01", "unit_nature": "39",
            "unit_industry": "I65", "unit_region": "440106", "position_category": "13",
            "signing_date": "2026-05-20", "agreement_number": "XY2026000001", "further_study_school": None,
            "further_study_programme": None, "status": "in_force"}
    body.update(overrides)
    return body


def archive(**overrides):
    body = {"school_code": "10558", "name": "张三", "graduation_year": 2026, "education_level": "31",
            "platform_version": 1, "transfer_type": "1",
            "receiving_unit": "广州市人才服务中心", "receiving_department": "档案科",
            "address": "广州市天河区示例路1号",
            "postcode": "510000", "recipient": "李四", "phone": "020-12345678", "transfer_number": "DA2026000001"}
    body.update(overrides)
    return body


def hukou(**overrides):
    body = {"school_code": "10558", "name": "张三", "graduation_year": 2026, "education_level": "31",
            "platform_version": 1, "transfer_type": "2",
            "address": "广州市天河区示例路1号", "receiving_unit": "广州市公安局天河分局", "postcode": "510000"}
    body.update(overrides)
    return body


BODIES = {"destination": destination, "archive": archive, "hukou": hukou}
