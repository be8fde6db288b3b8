"""Help entries seeded with the 2024 dates get the current session's placeholders, and FAQ 16 names the platform as
the 2024 FAQ does ("全国会计人员统一服务管理平台"). An entry staff have edited since is left as they wrote it."""

from django.db import migrations

# {number: {field: (as seeded before, as seeded now)}}
CHANGES = {
    1: {
        "question_zh": (
            "2024年中级资格考试的报名和缴费时间是什么时候？",
            "{year}年中级资格考试的报名和缴费时间是什么时候？",
        ),
        "answer_zh": (
            "新疆考区2024年度会计专业技术中级资格考试报名时间为2024年6月19日至7月2日12:00截止，缴费时间为2024年6月19日至7月2日18:00截止。\n\n以上时间均为北京时间。",
            "新疆考区{year}年度会计专业技术中级资格考试报名时间为{registration_opens}至{registration_closes}截止，缴费时间为{registration_opens}至{payment_closes}截止。\n\n以上时间均为北京时间。",
        ),
        "question_en": (
            "When are the registration and payment periods for the 2024 intermediate exam?",
            "When are the registration and payment periods for the {year} intermediate exam?",
        ),
        "answer_en": (
            "In the Xinjiang exam area, registration for the 2024 intermediate accounting qualification exam runs from 19 June 2024 until 12:00 noon on 2 July 2024. Payment is possible from 19 June 2024 until 18:00 on 2 July 2024.\n\nAll times are Beijing time.",
            "In the Xinjiang exam area, registration for the {year} intermediate accounting qualification exam runs from {registration_opens} until {registration_closes}. Payment is possible from {registration_opens} until {payment_closes}.\n\nAll times are Beijing time.",
        ),
    },
    2: {
        "question_zh": (
            "报考2024年中级资格考试是否需要完成继续教育？",
            "报考{year}年中级资格考试是否需要完成继续教育？",
        ),
        "answer_zh": (
            "需要。报考2024年度会计专业技术中级资格考试的考生须完成2023年度继续教育，共90学分，其中专业课不少于60学分，公需课不少于30学分。",
            "需要。报考{year}年度会计专业技术中级资格考试的考生须完成{ce_year}年度继续教育，共90学分，其中专业课不少于60学分，公需课不少于30学分。",
        ),
        "question_en": (
            "Do I need to complete continuing education to register for the 2024 intermediate exam?",
            "Do I need to complete continuing education to register for the {year} intermediate exam?",
        ),
        "answer_en": (
            "Yes. Candidates for the 2024 intermediate accounting qualification exam must have completed their continuing education for 2023: 90 credits in total, of which at least 60 credits in professional courses and at least 30 credits in public (general) courses.",
            "Yes. Candidates for the {year} intermediate accounting qualification exam must have completed their continuing education for {ce_year}: 90 credits in total, of which at least 60 credits in professional courses and at least 30 credits in public (general) courses.",
        ),
    },
    3: {
        "question_zh": ("2024年中级资格考试在什么时间举行？", "{year}年中级资格考试在什么时间举行？"),
        "answer_zh": (
            "2024年中级资格考试于2024年9月7日至9日举行，共分3个批次。具体考试时间以准考证所示为准。",
            "{year}年中级资格考试于{exam_first_day}至{exam_last_day}举行，共分3个批次。具体考试时间以准考证所示为准。",
        ),
        "question_en": (
            "When does the 2024 intermediate exam take place?",
            "When does the {year} intermediate exam take place?",
        ),
        "answer_en": (
            "The 2024 intermediate exam takes place from 7 to 9 September 2024, in three batches. Your exact exam date and time are those shown on your admit card.",
            "The {year} intermediate exam takes place from {exam_first_day} to {exam_last_day}, in three batches. Your exact exam date and time are those shown on your admit card.",
        ),
    },
    16: {
        "answer_zh": (
            "准考证打印时间为考前3至5天，具体时间以通知为准。考生凭身份证号码登录“全国会计资格评价网”准考证打印页面（http://kzp.mof.gov.cn/list_warning.jsp）自行打印准考证。",
            "准考证打印时间为考前3至5天，具体时间以通知为准。考生凭身份证号码登录“全国会计人员统一服务管理平台”准考证打印页面（http://kzp.mof.gov.cn/list_warning.jsp）自行打印准考证。",
        ),
        "answer_en": (
            "Admit cards can be printed 3 to 5 days before the exam; the exact dates will be announced. Print your admit card yourself on the admit-card page of the National Accounting Qualification Evaluation Website (全国会计资格评价网, http://kzp.mof.gov.cn/list_warning.jsp), logging in with your ID number.",
            "Admit cards can be printed 3 to 5 days before the exam; the exact dates will be announced. Print your admit card yourself on the admit-card page of the National Accountant Service Platform (全国会计人员统一服务管理平台, http://kzp.mof.gov.cn/list_warning.jsp), logging in with your ID number.",
        ),
    },
    19: {
        "answer_zh": (
            "获得国务院教育行政部门认可的境内会计硕士专业学位或会计博士专业学位的人员，报考中级会计专业技术资格考试可免试《财务管理》科目。\n\n符合条件的人员，请在报名期间（2024年6月19日至7月2日12:00前），携带本人申请材料到报名地会计专业技术资格考试管理机构完成现场审核确认，逾期不予受理。\n\n申请科目免试须提交以下材料：\n1. 身份证原件及复印件；\n2. 学位证书原件及复印件；\n3. 学信网下载的《教育部学历证书电子注册备案表》（2002年以后毕业的专科及以上学历考生提供）；\n4. 《会计专业技术中级资格考试免试科目申请表》。",
            "获得国务院教育行政部门认可的境内会计硕士专业学位或会计博士专业学位的人员，报考中级会计专业技术资格考试可免试《财务管理》科目。\n\n符合条件的人员，请在报名期间（{registration_opens}至{exemption_deadline}前），携带本人申请材料到报名地会计专业技术资格考试管理机构完成现场审核确认，逾期不予受理。\n\n申请科目免试须提交以下材料：\n1. 身份证原件及复印件；\n2. 学位证书原件及复印件；\n3. 学信网下载的《教育部学历证书电子注册备案表》（2002年以后毕业的专科及以上学历考生提供）；\n4. 《会计专业技术中级资格考试免试科目申请表》。",
        ),
        "answer_en": (
            "Holders of a Master of Professional Accounting (MPAcc) or Doctor of Professional Accounting degree awarded in China and recognised by the education authority of the State Council may be exempted from the Financial Management (财务管理) subject of the intermediate exam.\n\nIf you qualify, bring your application materials in person to the accounting qualification exam office where you register, during the registration period (19 June 2024 to 12:00 noon on 2 July 2024, Beijing time), for on-site review and confirmation. Late applications are not accepted.\n\nDocuments required:\n1. Your ID card, original and a copy;\n2. Your degree certificate, original and a copy;\n3. The Online Verification Report of Higher Education Qualification Certificate (教育部学历证书电子注册备案表) downloaded from CHSI (学信网), for graduates of 2002 or later with an associate degree or higher;\n4. The subject exemption application form for the intermediate accounting qualification exam (会计专业技术中级资格考试免试科目申请表).",
            "Holders of a Master of Professional Accounting (MPAcc) or Doctor of Professional Accounting degree awarded in China and recognised by the education authority of the State Council may be exempted from the Financial Management (财务管理) subject of the intermediate exam.\n\nIf you qualify, bring your application materials in person to the accounting qualification exam office where you register, during the registration period ({registration_opens} to {exemption_deadline}, Beijing time), for on-site review and confirmation. Late applications are not accepted.\n\nDocuments required:\n1. Your ID card, original and a copy;\n2. Your degree certificate, original and a copy;\n3. The Online Verification Report of Higher Education Qualification Certificate (教育部学历证书电子注册备案表) downloaded from CHSI (学信网), for graduates of 2002 or later with an associate degree or higher;\n4. The subject exemption application form for the intermediate accounting qualification exam (会计专业技术中级资格考试免试科目申请表).",
        ),
    },
    20: {
        "answer_zh": (
            "符合会计专业技术中级资格考试报名条件的外籍人员，按照就近方便的原则报名。请在报名期间（2024年6月19日至7月2日12:00前），携带相关材料的原件及复印件，到报名地会计专业技术资格考试管理机构进行现场审核报名，逾期不予受理。",
            "符合会计专业技术中级资格考试报名条件的外籍人员，按照就近方便的原则报名。请在报名期间（{registration_opens}至{registration_closes}前），携带相关材料的原件及复印件，到报名地会计专业技术资格考试管理机构进行现场审核报名，逾期不予受理。",
        ),
        "answer_en": (
            "Foreign nationals who meet the eligibility requirements for the intermediate accounting qualification exam register at the exam office nearest and most convenient for them.\n\nDuring the registration period (19 June 2024 to 12:00 noon on 2 July 2024, Beijing time), bring the originals and copies of the relevant documents to the accounting qualification exam office where you register, for an in-person review and registration. Late applications are not accepted.",
            "Foreign nationals who meet the eligibility requirements for the intermediate accounting qualification exam register at the exam office nearest and most convenient for them.\n\nDuring the registration period ({registration_opens} to {registration_closes}, Beijing time), bring the originals and copies of the relevant documents to the accounting qualification exam office where you register, for an in-person review and registration. Late applications are not accepted.",
        ),
    },
}


def forwards(apps, schema_editor):
    HelpEntry = apps.get_model("public", "HelpEntry")
    for entry in HelpEntry.objects.filter(number__in=CHANGES):
        changed = []
        for field, (before, after) in CHANGES[entry.number].items():
            if getattr(entry, field) == before:
                setattr(entry, field, after)
                changed.append(field)
        if changed:
            entry.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("public", "0002_seed_help_entries")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
