"""The offices of DOMAIN.md, used by the data migration and by tests that flush the database.

Street addresses and phone numbers are not in the FAQ: the seat city is given and regional staff
complete the rest in the admin (or import it from a spreadsheet).
"""

# code, short Chinese name, English name, seat (zh), seat (en)
LOCAL_OFFICES = [
    ("650100", "乌鲁木齐市", "Ürümqi", "乌鲁木齐市", "Ürümqi"),
    ("650200", "克拉玛依市", "Karamay", "克拉玛依市", "Karamay"),
    ("650400", "吐鲁番市", "Turpan", "吐鲁番市高昌区", "Gaochang District, Turpan"),
    ("650500", "哈密市", "Hami", "哈密市伊州区", "Yizhou District, Hami"),
    ("652300", "昌吉州", "Changji Prefecture", "昌吉市", "Changji"),
    ("652700", "博州", "Bortala Prefecture", "博乐市", "Bole"),
    ("652800", "巴州", "Bayingolin Prefecture", "库尔勒市", "Korla"),
    ("652900", "阿克苏地区", "Aksu Prefecture", "阿克苏市", "Aksu"),
    ("653000", "克州", "Kizilsu Prefecture", "阿图什市", "Artux"),
    ("653100", "喀什地区", "Kashgar Prefecture", "喀什市", "Kashgar"),
    ("653200", "和田地区", "Hotan Prefecture", "和田市", "Hotan"),
    ("654000", "伊犁州", "Ili Prefecture", "伊宁市", "Yining"),
    ("654200", "塔城地区", "Tacheng Prefecture", "塔城市", "Tacheng"),
    ("654300", "阿勒泰地区", "Altay Prefecture", "阿勒泰市", "Altay"),
]

HOURS_ZH = "工作日 10:00–14:00，16:00–19:30（北京时间）"
HOURS_EN = "Working days 10:00–14:00 and 16:00–19:30 (Beijing time)"


def office_rows():
    yield {
        "code": "650000",
        "name_zh": "自治区会计考试办公室（会考办）",
        "name_en": "Regional Accounting Exam Office, Xinjiang",
        "address_zh": "乌鲁木齐市，新疆维吾尔自治区财政厅",
        "address_en": "Department of Finance of the Xinjiang Uygur Autonomous Region, Ürümqi",
        "hours_zh": HOURS_ZH,
        "hours_en": HOURS_EN,
    }
    for code, name_zh, name_en, seat_zh, seat_en in LOCAL_OFFICES:
        yield {
            "code": code,
            "name_zh": f"{name_zh}财政局会计科",
            "name_en": f"Accounting Section, {name_en} Finance Bureau",
            "address_zh": f"{seat_zh}，{name_zh}财政局",
            "address_en": f"{name_en} Finance Bureau, {seat_en}",
            "hours_zh": HOURS_ZH,
            "hours_en": HOURS_EN,
        }


def create_offices(office_model):
    """Create the offices that do not exist yet; never overwrite what staff edited."""
    for row in office_rows():
        office_model.objects.get_or_create(code=row["code"], defaults=row)
