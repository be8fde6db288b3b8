"""The downloadable forms as first seeded (FAQ 19's 免试科目申请表 and FAQ 6's written statement); regional staff edit
them in the admin afterwards. Placeholders in braces come from the session (applications/placeholders.py) and the
request (tickets/documents.py)."""

FORM_TEMPLATES = [
    {
        "kind": "exemption",
        "title_zh": "{year}年度会计专业技术中级资格考试免试科目申请表",
        "intro_zh": (
            "获得国务院教育行政部门认可的境内会计硕士专业学位、会计博士专业学位的人员，报考中级会计专业技术资格考试"
            "可免试《{exempt_subject}》科目。\n"
            "请于{registration_opens}至{exemption_deadline}前（北京时间），携带本表及下列材料到报名地会计专业技术资格"
            "考试管理机构完成现场审核确认，逾期不予受理。"
        ),
        "applicant_fields_zh": (
            "姓名 | {name}\n"
            "证件类型及号码\n"
            "联系电话 | {phone}\n"
            "报名地考试管理机构 | {office}\n"
            "学位类别 | {degree}\n"
            "学位证书编号 | {certificate_number}\n"
            "毕业院校 | {school}\n"
            "毕业时间 | {graduation_date}\n"
            "申请免试科目 | {exempt_subject}"
        ),
        "materials_zh": (
            "（一）身份证原件及复印件；（二）学位证书原件及复印件；"
            "（三）学信网下载的教育部学历证书电子注册备案表（2002年以后毕业的专科及专科以上考生）；（四）本申请表。"
        ),
        "declaration_zh": "本人承诺以上信息及所提交材料真实、有效，如有虚假，本人自愿承担相应责任。",
        "office_fields_zh": "审核意见\n经办人签字\n审核日期",
        "title_en": "Application for subject exemption, intermediate accounting qualification exam {year}",
        "intro_en": (
            "Translation for reference only: the office accepts the Chinese form, filled in and signed.\n"
            "Holders of a nationally recognised Master (MPAcc) or Doctor of Professional Accounting degree may be "
            "exempted from {exempt_subject}. Bring this form and the materials below to the exam office where you "
            "register, from {registration_opens} until {exemption_deadline} (Beijing time); later applications are "
            "not accepted."
        ),
        "applicant_fields_en": (
            "Name | {name}\n"
            "Identity document and number\n"
            "Mobile phone | {phone}\n"
            "Exam office | {office}\n"
            "Degree | {degree}\n"
            "Degree certificate number | {certificate_number}\n"
            "School | {school}\n"
            "Graduation date | {graduation_date}\n"
            "Subject to be exempted from | {exempt_subject}"
        ),
        "materials_en": (
            "(1) ID card, original and copy; (2) degree certificate, original and copy; (3) the 学信网 electronic "
            "registration record of the degree (graduates of 2002 or later); (4) this form."
        ),
        "declaration_en": (
            "I declare that the information above and the materials I submit are true and valid, and accept the "
            "consequences if they are not."
        ),
        "office_fields_en": "Decision\nStaff member's signature\nDate of review",
    },
    {
        "kind": "cert_deletion",
        "title_zh": "关于删除“全国会计人员统一服务管理平台”实名认证信息的申请",
        "intro_zh": (
            "自治区会计考试办公室：\n"
            "本人忘记了在“全国会计人员统一服务管理平台”注册时使用的邮箱，无法找回账号，现申请删除本人在该平台的"
            "实名认证信息。删除后，本人将重新注册并完成实名认证。"
        ),
        "applicant_fields_zh": (
            "姓名 | {name}\n"
            "证件类型及号码\n"
            "联系电话 | {phone}\n"
            "电子邮箱 | {email}\n"
            "会计关系所在地会计管理部门 | {office}\n"
            "情况说明 | {statement}"
        ),
        "materials_zh": "本人有效身份证件原件；本申请（本人签字）。",
        "declaration_zh": "本人承诺以上说明属实，并知悉删除实名认证信息后须重新注册、重新实名认证。",
        "office_fields_zh": "受理机构意见（已核验身份）\n经办人签字及日期\n自治区会考办处理结果",
        "title_en": "Request to delete the real-name certification on the National Accountant Service Platform",
        "intro_en": (
            "Translation for reference only: the office accepts the Chinese form, filled in and signed.\n"
            "To the Regional Accounting Examination Office: I forgot the email address of my account on the National "
            "Accountant Service Platform (全国会计人员统一服务管理平台) and cannot recover the account. I ask for my "
            "real-name certification on the platform to be deleted; I will then register and authenticate again."
        ),
        "applicant_fields_en": (
            "Name | {name}\n"
            "Identity document and number\n"
            "Mobile phone | {phone}\n"
            "Email | {email}\n"
            "Local accounting office | {office}\n"
            "Statement | {statement}"
        ),
        "materials_en": "Your valid identity document (original); this request, signed by you.",
        "declaration_en": (
            "I declare that this statement is true, and I know that after the deletion I must register and "
            "authenticate again."
        ),
        "office_fields_en": (
            "Local office (identity checked)\nStaff member's signature and date\nRegional office's result"
        ),
    },
]


def create_form_templates(form_template_model):
    """Seed the forms; the ones staff already have are left as they are."""
    for template in FORM_TEMPLATES:
        form_template_model.objects.get_or_create(kind=template["kind"], defaults=template)
