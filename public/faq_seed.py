"""Hand-written zh-hans and English text of the 22 answers of the 2024 registration FAQ.

Seeded into public.HelpEntry by a data migration; regional staff edit the entries in the admin afterwards.
"""

FAQ_ENTRIES = [
    {
        "number": 1,
        "question_zh": "{year}年中级资格考试的报名和缴费时间是什么时候？",
        "answer_zh": (
            "新疆考区{year}年度会计专业技术中级资格考试报名时间为{registration_opens}至{registration_closes}截止，"
            "缴费时间为{registration_opens}至{payment_closes}截止。\n\n"
            "以上时间均为北京时间。"
        ),
        "question_en": "When are the registration and payment periods for the {year} intermediate exam?",
        "answer_en": (
            "In the Xinjiang exam area, registration for the {year} intermediate accounting qualification exam "
            "runs from {registration_opens} until {registration_closes}. "
            "Payment is possible from {registration_opens} until {payment_closes}.\n\n"
            "All times are Beijing time."
        ),
    },
    {
        "number": 2,
        "question_zh": "报考{year}年中级资格考试是否需要完成继续教育？",
        "answer_zh": (
            "需要。报考{year}年度会计专业技术中级资格考试的考生须完成{ce_year}年度继续教育，共90学分，"
            "其中专业课不少于60学分，公需课不少于30学分。"
        ),
        "question_en": "Do I need to complete continuing education to register for the {year} intermediate exam?",
        "answer_en": (
            "Yes. Candidates for the {year} intermediate accounting qualification exam must have completed "
            "their continuing education for {ce_year}: 90 credits in total, of which at least 60 credits "
            "in professional courses and at least 30 credits in public (general) courses."
        ),
    },
    {
        "number": 3,
        "question_zh": "{year}年中级资格考试在什么时间举行？",
        "answer_zh": (
            "{year}年中级资格考试于{exam_first_day}至{exam_last_day}举行，共分3个批次。具体考试时间以准考证所示为准。"
        ),
        "question_en": "When does the {year} intermediate exam take place?",
        "answer_en": (
            "The {year} intermediate exam takes place from {exam_first_day} to {exam_last_day}, in three batches. "
            "Your exact exam date and time are those shown on your admit card."
        ),
    },
    {
        "number": 4,
        "question_zh": "忘记“新疆会计人员服务平台”的登录密码怎么办？",
        "answer_zh": (
            "请考生本人持有效身份证件到会计关系所在地的会计管理部门（会计科）申请重置密码。"
            "会计科核实考生身份后为其重置密码，并当面告知考生初始密码。\n\n"
            "考生首次登录时须立即修改密码。"
        ),
        "question_en": (
            "I forgot my password for the Xinjiang Accountant Service Platform "
            "(新疆会计人员服务平台). What should I do?"
        ),
        "answer_en": (
            "Go in person, with a valid identity document, to the local accounting office (会计科) "
            "of the area where your accounting records are held. The office verifies your identity, "
            "resets your password and tells you the initial password in person.\n\n"
            "You must change this password the first time you log in."
        ),
    },
    {
        "number": 5,
        "question_zh": "忘记“全国会计人员统一服务管理平台”的登录密码怎么办？",
        "answer_zh": (
            "考生可通过注册时填写的邮箱、手机号码或密保问题自行找回密码。\n\n"
            "如自行找回有困难，请联系会计关系所在地的会计管理部门（会计科）重置密码，"
            "重置后的密码将以邮件形式发送至考生已认证的邮箱。"
        ),
        "question_en": (
            "I forgot my password for the National Accountant Service and Management Platform "
            "(全国会计人员统一服务管理平台). What should I do?"
        ),
        "answer_en": (
            "You can recover it yourself using the email address, mobile phone number or security questions "
            "you gave when you registered.\n\n"
            "If you cannot recover it yourself, contact the local accounting office (会计科) of the area "
            "where your accounting records are held. The office resets your password, and the new password "
            "is sent by email to your verified email address."
        ),
    },
    {
        "number": 6,
        "question_zh": "忘记在“全国会计人员统一服务管理平台”注册的邮箱怎么办？",
        "answer_zh": (
            "请考生本人持有效身份证件到会计关系所在地的会计管理部门（会计科），填写书面说明，"
            "申请删除个人信息。会计科将申请上报自治区会计考试办公室，由其删除考生的认证信息。\n\n"
            "认证信息删除后，考生须在该平台重新注册并完成实名认证。"
        ),
        "question_en": (
            "I no longer know the email address I registered on the National Accountant Service and "
            "Management Platform (全国会计人员统一服务管理平台). What should I do?"
        ),
        "answer_en": (
            "Go in person, with a valid identity document, to the local accounting office (会计科) "
            "of the area where your accounting records are held, and write a statement asking for "
            "your personal information to be deleted. The local office forwards your request to the "
            "accounting exam office of the Xinjiang Uygur Autonomous Region (自治区会计考试办公室), "
            "which deletes your authentication data.\n\n"
            "You then register on the platform again and complete the real-name authentication again."
        ),
    },
    {
        "number": 7,
        "question_zh": (
            "已在“财政部会计资格评价网”注册并实名认证，还需要在“全国会计人员统一服务管理平台”重新注册认证吗？"
        ),
        "answer_zh": "需要。考生必须在“全国会计人员统一服务管理平台”重新注册并完成实名认证，否则无法报名。",
        "question_en": (
            "I have already registered and completed real-name authentication on the Accounting "
            "Qualification Evaluation Website of the Ministry of Finance (财政部会计资格评价网). "
            "Do I need to do it again on the national platform?"
        ),
        "answer_en": (
            "Yes. You must register again and complete real-name authentication on the National "
            "Accountant Service and Management Platform (全国会计人员统一服务管理平台); "
            "otherwise you cannot register for the exam."
        ),
    },
    {
        "number": 8,
        "question_zh": "在“全国会计人员统一服务管理平台”进行实名认证时支付宝报错怎么办？",
        "answer_zh": (
            "请按以下方法处理：\n"
            "1. 请使用电脑进行实名认证，不要使用手机登录认证，手机无法显示二维码。\n"
            "2. 如使用电脑仍然报错，可更换一台电脑再试。\n"
            "3. 如无法通过支付宝完成实名认证，可点击【线上实名认证】进行认证。\n"
            "4. 线上实名认证需要一定的审核周期，请至少在报名截止前3个工作日提交申请，"
            "并及时关注审核状态，以免影响报名。"
        ),
        "question_en": (
            "Alipay shows an error during real-name authentication on the National Accountant Service "
            "and Management Platform (全国会计人员统一服务管理平台). What should I do?"
        ),
        "answer_en": (
            "Try the following:\n"
            "1. Complete the authentication on a computer, not on a mobile phone: "
            "the QR code cannot be displayed on a phone.\n"
            "2. If the error persists on a computer, try again on a different computer.\n"
            "3. If you cannot complete the authentication with Alipay, click 【线上实名认证】 "
            "(online real-name authentication) and authenticate online instead.\n"
            "4. Online authentication has to be reviewed, which takes time. Submit your request at least "
            "3 working days before the registration deadline and check its status regularly, "
            "so that your registration is not delayed."
        ),
    },
    {
        "number": 9,
        "question_zh": "在“全国会计人员统一服务管理平台”完成实名认证后姓名发生变更，怎么办？",
        "answer_zh": "请考生本人持有效身份证件或相关证明材料，到会计关系所在地的会计管理部门（会计科）申请修改。",
        "question_en": (
            "My name changed after I completed real-name authentication on the National Accountant "
            "Service and Management Platform (全国会计人员统一服务管理平台). What should I do?"
        ),
        "answer_en": (
            "Go in person, with a valid identity document or other supporting proof, to the local "
            "accounting office (会计科) of the area where your accounting records are held, "
            "and apply for the change."
        ),
    },
    {
        "number": 10,
        "question_zh": "如何查询各地会计管理部门（会计科）的地址和联系电话？",
        "answer_zh": (
            "本网站顶部菜单中的“办公地点”页面列出了各地州市会计管理部门（会计科）的地址、联系电话和办公时间。"
        ),
        "question_en": "Where can I find the address and phone number of my local accounting office?",
        "answer_en": (
            'The "Office directory" page in the top menu of this site lists the address, phone number '
            "and office hours of every local accounting office (会计科)."
        ),
    },
    {
        "number": 11,
        "question_zh": "考试报名的流程是什么？",
        "answer_zh": (
            "会计专业技术资格考试实行网上报名，报名入口为“新疆会计人员服务平台”"
            "（https://kjgl.xjcz.gov.cn/accNet/）。\n\n"
            "在规定的报名时间内，考生须分别在“新疆会计人员服务平台”注册并完成信息采集，"
            "在“全国会计人员统一服务管理平台”（http://ausm.mof.gov.cn/index/）注册并完成实名认证。\n\n"
            "随后，在“新疆会计人员服务平台”点击中级资格考试报名，按照报名要求完善报考人员信息，"
            "并提交报名资格审核。审核将在2个工作日内完成。资格审核通过后，"
            "方可进入“全国会计人员统一服务管理平台”报名并缴费。"
        ),
        "question_en": "How does registration work?",
        "answer_en": (
            "Registration for the accounting qualification exams is online only. The entry point is the "
            "Xinjiang Accountant Service Platform (新疆会计人员服务平台, https://kjgl.xjcz.gov.cn/accNet/).\n\n"
            "Within the registration period you need accounts on two platforms: register on the Xinjiang "
            "Accountant Service Platform and complete the information collection there, and register on the "
            "National Accountant Service and Management Platform (全国会计人员统一服务管理平台, "
            "http://ausm.mof.gov.cn/index/) and complete the real-name authentication there.\n\n"
            "Then, on the Xinjiang Accountant Service Platform, open the intermediate exam registration, "
            "complete your candidate information as required and submit it for eligibility review. "
            "The review is completed within 2 working days. Once your eligibility has been approved, "
            "you can register and pay on the National Accountant Service and Management Platform."
        ),
    },
    {
        "number": 12,
        "question_zh": "报名资格审核主要审核哪些内容？",
        "answer_zh": (
            "报名资格审核时，考生须上传社会保险缴费证明及相关证明材料。社保缴费记录可在“新疆智慧人社”"
            "小程序中查询，并导出为PDF文件后上传至报名审核系统。\n\n"
            "审核以社保证明为准：审核人员根据考生的最高学历，按照报名条件要求的工作年限，"
            "核对社保缴费年限（即工作年限）。\n\n"
            "对于1998年7月2日以后出生的考生，审核时将重点核查其是否按照学历提交了相应年限的社保证明。"
            "重点核查并不意味着报名不予通过。"
        ),
        "question_en": "What does the eligibility review check?",
        "answer_en": (
            "For the eligibility review you must upload your social-insurance payment record and any related "
            "supporting documents. You can look up your social-insurance payment record in the "
            "新疆智慧人社 (Xinjiang Smart Human Resources and Social Security) mini-program, export it "
            "as a PDF file and upload it to the registration review system.\n\n"
            "The social-insurance record is decisive: the reviewer checks the years of contributions "
            "(your years of work) against the number of years of work required for your highest "
            "educational qualification.\n\n"
            "Applications from candidates born after 2 July 1998 are reviewed more closely, to check that "
            "the social-insurance record covers the years of work required for their qualification. "
            "A closer review does not mean that the application is rejected."
        ),
    },
    {
        "number": 13,
        "question_zh": "已报名但尚未缴费，如何修改考试地点或个人信息？",
        "answer_zh": "考生可自行登录“全国会计资格评价网”，进入考试报名系统修改考试地点或个人信息。",
        "question_en": "I have registered but not yet paid. How can I change my exam location or personal details?",
        "answer_en": (
            "You can do this yourself: log in to the National Accounting Qualification Evaluation Website "
            "(全国会计资格评价网), open the exam registration system and change your exam location "
            "or personal details."
        ),
    },
    {
        "number": 14,
        "question_zh": "已缴费后，能否修改考试地点、增加或取消考试科目，或者申请退费？",
        "answer_zh": (
            "不能。考生网上缴费成功后，不再办理退报名、改报名、退费等事项。\n\n"
            "唯一的例外是重复缴费：重复缴纳的费用予以退还，办理方式见第18问。"
        ),
        "question_en": "I have already paid. Can I change my exam location, add or drop subjects, or get a refund?",
        "answer_en": (
            "No. Once your online payment has gone through, registrations cannot be withdrawn or changed "
            "and fees are not refunded.\n\n"
            "The only exception is a duplicate payment: a fee paid twice is refunded (see FAQ 18)."
        ),
    },
    {
        "number": 15,
        "question_zh": "已缴费后，如何修改个人报名信息（姓名、性别、身份证号码、照片等）？",
        "answer_zh": (
            "请考生最迟于考试前20天，本人持有效身份证件或相关证明材料，到会计关系所在地的会计管理部门"
            "（会计科）申请修改个人报名信息。"
        ),
        "question_en": (
            "I have already paid. How can I correct my personal registration details "
            "(name, gender, ID number, photo, etc.)?"
        ),
        "answer_en": (
            "Go in person, no later than 20 days before the exam, with a valid identity document or other "
            "supporting proof, to the local accounting office (会计科) of the area where your accounting "
            "records are held, and apply for the change of your registration details."
        ),
    },
    {
        "number": 16,
        "question_zh": "什么时候可以打印准考证？",
        "answer_zh": (
            "准考证打印时间为考前3至5天，具体时间以通知为准。考生凭身份证号码登录“全国会计人员统一服务管理平台”"
            "准考证打印页面（http://kzp.mof.gov.cn/list_warning.jsp）自行打印准考证。"
        ),
        "question_en": "When can I print my admit card?",
        "answer_en": (
            "Admit cards can be printed 3 to 5 days before the exam; the exact dates will be announced. "
            "Print your admit card yourself on the admit-card page of the National Accountant Service "
            "Platform (全国会计人员统一服务管理平台, http://kzp.mof.gov.cn/list_warning.jsp), "
            "logging in with your ID number."
        ),
    },
    {
        "number": 17,
        "question_zh": "准考证上的考试时间与其他考试冲突，可以调整吗？",
        "answer_zh": "不能。具体考试时间由系统随机生成，以准考证所示为准；准考证打印后，考试时间无法调整。",
        "question_en": "The exam time on my admit card clashes with another exam. Can it be changed?",
        "answer_en": (
            "No. Exam times are assigned at random by the system, and the time shown on your admit card "
            "applies. Once the admit card has been printed, the exam time cannot be changed."
        ),
    },
    {
        "number": 18,
        "question_zh": "重复缴费了怎么办？",
        "answer_zh": (
            "报名系统筛查出的重复缴费人员名单，将在报名结束后一周内提供给各考区，"
            "由各地考试管理机构负责办理退费手续。\n\n"
            "考生自行反映重复缴费的，须由考生本人提供重复缴费的相关证据（银行卡回单），"
            "由各地考试管理机构上报上级考试管理机构，经非税系统查证确认后，办理退费手续。"
        ),
        "question_en": "I paid the fee twice. What should I do?",
        "answer_en": (
            "The registration system screens for duplicate payments. The list of candidates who paid twice "
            "is sent to each exam area within one week after registration closes, and the local exam "
            "office handles the refund.\n\n"
            "If you report a duplicate payment yourself, you must provide proof of it (the bank card "
            "receipt). The local exam office forwards your case to the higher-level exam office; once the "
            "payment has been verified in the non-tax revenue system, the refund is processed."
        ),
    },
    {
        "number": 19,
        "question_zh": "如何申请免试《财务管理》科目？",
        "answer_zh": (
            "获得国务院教育行政部门认可的境内会计硕士专业学位或会计博士专业学位的人员，"
            "报考中级会计专业技术资格考试可免试《财务管理》科目。\n\n"
            "符合条件的人员，请在报名期间（{registration_opens}至{exemption_deadline}前），携带本人申请材料"
            "到报名地会计专业技术资格考试管理机构完成现场审核确认，逾期不予受理。\n\n"
            "申请科目免试须提交以下材料：\n"
            "1. 身份证原件及复印件；\n"
            "2. 学位证书原件及复印件；\n"
            "3. 学信网下载的《教育部学历证书电子注册备案表》（2002年以后毕业的专科及以上学历考生提供）；\n"
            "4. 《会计专业技术中级资格考试免试科目申请表》。"
        ),
        "question_en": "How do I apply for exemption from the Financial Management subject?",
        "answer_en": (
            "Holders of a Master of Professional Accounting (MPAcc) or Doctor of Professional Accounting "
            "degree awarded in China and recognised by the education authority of the State Council may be "
            "exempted from the Financial Management (财务管理) subject of the intermediate exam.\n\n"
            "If you qualify, bring your application materials in person to the accounting qualification "
            "exam office where you register, during the registration period ({registration_opens} to "
            "{exemption_deadline}, Beijing time), for on-site review and confirmation. "
            "Late applications are not accepted.\n\n"
            "Documents required:\n"
            "1. Your ID card, original and a copy;\n"
            "2. Your degree certificate, original and a copy;\n"
            "3. The Online Verification Report of Higher Education Qualification Certificate "
            "(教育部学历证书电子注册备案表) downloaded from CHSI (学信网), for graduates of 2002 or later "
            "with an associate degree or higher;\n"
            "4. The subject exemption application form for the intermediate accounting qualification exam "
            "(会计专业技术中级资格考试免试科目申请表)."
        ),
    },
    {
        "number": 20,
        "question_zh": "外籍人员如何报名？",
        "answer_zh": (
            "符合会计专业技术中级资格考试报名条件的外籍人员，按照就近方便的原则报名。"
            "请在报名期间（{registration_opens}至{registration_closes}前），携带相关材料的原件及复印件，"
            "到报名地会计专业技术资格考试管理机构进行现场审核报名，逾期不予受理。"
        ),
        "question_en": "How do foreign nationals register?",
        "answer_en": (
            "Foreign nationals who meet the eligibility requirements for the intermediate accounting "
            "qualification exam register at the exam office nearest and most convenient for them.\n\n"
            "During the registration period ({registration_opens} to {registration_closes}, Beijing time), "
            "bring the originals and copies of the relevant documents to the accounting qualification exam "
            "office where you register, for an in-person review and registration. "
            "Late applications are not accepted."
        ),
    },
    {
        "number": 21,
        "question_zh": "已缴费但全国平台仍显示未缴费，如何查询是否缴费成功？",
        "answer_zh": (
            "可通过以下两种方法查询：\n\n"
            "方法一：登录“新疆会计人员服务平台”，在首页“考试信息”栏目中点击【报名缴费查询】，"
            "选择考试类型和考试年度后，即可查询缴费记录。\n\n"
            "方法二：进入新疆公共政务服务统一支付平台（http://finpt.xjcz.gov.cn/fs-public/index.do），"
            "页面默认选中“票据验证打印”，输入姓名和票据号，即可打印已缴费票据。"
        ),
        "question_en": (
            "I have paid, but the national platform still shows the fee as unpaid. "
            "How can I check whether my payment went through?"
        ),
        "answer_en": (
            "There are two ways to check:\n\n"
            "Method 1: Log in to the Xinjiang Accountant Service Platform (新疆会计人员服务平台). "
            "On the home page, in the exam information section (考试信息), click 【报名缴费查询】 "
            "(registration payment query), then select the exam type and the exam year to see "
            "your payment record.\n\n"
            "Method 2: Open the unified payment platform of the Xinjiang public government services "
            "(统一支付平台, http://finpt.xjcz.gov.cn/fs-public/index.do). Receipt verification and printing "
            "(票据验证打印) is selected by default: enter your name and the receipt number to print the "
            "receipt for your payment."
        ),
    },
    {
        "number": 22,
        "question_zh": "缴费后如何打印发票？",
        "answer_zh": (
            "可按以下方式打印发票：\n"
            "1. 缴费成功后，即可立即打印报名发票。\n"
            "2. 如已退出报名系统，请登录新疆维吾尔自治区财政厅官网，点击页面下方的“非税缴费”，"
            "输入付款人全称和缴款码，打印发票。\n"
            "3. 如未记录缴款码，请拨打0991-2359996查询。"
        ),
        "question_en": "I have paid. How do I print the invoice?",
        "answer_en": (
            "You can print the invoice as follows:\n"
            "1. The registration invoice can be printed immediately after payment.\n"
            "2. If you have already left the registration system, go to the official website of the "
            "Department of Finance of the Xinjiang Uygur Autonomous Region (新疆维吾尔自治区财政厅), "
            'click "非税缴费" (non-tax payment) at the bottom of the page, enter the full name of the '
            "payer and the payment code (缴款码), and print the invoice.\n"
            "3. If you did not write down your payment code, call 0991-2359996 to look it up."
        ),
    },
]
