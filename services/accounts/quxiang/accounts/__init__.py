"""The accounts service. Owns (in its own database): Provinces, schools, departments, employers, users,
credentials, module permissions and function settings.
"""
