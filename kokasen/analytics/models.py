"""Daily counts of the access logs (decision 0036). No address, user agent or other trace of
a person: counts per day and path, host, device class or campaign, and, to count a client once
per day, keys hashed with a secret of the day (``ClientKey``), dropped after
``ANALYTICS_CLIENT_KEY_DAYS``."""

from django.db import models


class DayTotal(models.Model):
    day = models.DateField("日付", unique=True)
    lines = models.PositiveBigIntegerField("行数", default=0)
    bad_lines = models.PositiveBigIntegerField("読めない行", default=0)
    requests = models.PositiveBigIntegerField("リクエスト", default=0)
    bot_requests = models.PositiveBigIntegerField("ボットのリクエスト", default=0)
    page_views = models.PositiveBigIntegerField("ページビュー", default=0)
    downloads = models.PositiveBigIntegerField("ダウンロード", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "日別の合計"
        ordering = ["day"]

    def __str__(self):
        return f"{self.day}"


class PageDay(models.Model):
    """Views of one page on one day. ``page``: the Wagtail page the path led to when the line was
    read (so a renamed or moved page keeps its history); ``times``: a histogram of response
    times (aggregate.time_bucket) of all its views, people's and bots'."""

    day = models.DateField("日付")
    path = models.CharField("パス", max_length=500)
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="ページ", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    views = models.PositiveIntegerField("閲覧数", default=0)
    bot_views = models.PositiveIntegerField("ボットの閲覧数", default=0)
    times = models.JSONField("応答時間の分布", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "ページ別・日別の閲覧数"
        constraints = [models.UniqueConstraint(fields=["day", "path"], name="analytics_pageday_unique")]
        indexes = [models.Index(fields=["page", "day"])]

    def __str__(self):
        return f"{self.day} {self.path}"


class DownloadDay(models.Model):
    """Downloads of one file on one day: once per client and day (``downloads``, people only),
    and the requests behind them (range requests included)."""

    day = models.DateField("日付")
    path = models.CharField("パス", max_length=500)
    downloads = models.PositiveIntegerField("ダウンロード数", default=0)
    requests = models.PositiveIntegerField("リクエスト数", default=0)
    bot_requests = models.PositiveIntegerField("ボットのリクエスト数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "ファイル別・日別のダウンロード数"
        constraints = [models.UniqueConstraint(fields=["day", "path"], name="analytics_downloadday_unique")]

    def __str__(self):
        return f"{self.day} {self.path}"


class Breakdown(models.Model):
    """People's page views per referrer host, device class and campaign; requests per kind
    (people's and bots') and per reason a bot was recognised."""

    REFERRER, DEVICE, CAMPAIGN, KIND, BOT_KIND, BOT_REASON = (
        "referrer",
        "device",
        "campaign",
        "kind",
        "bot_kind",
        "bot_reason",
    )
    DIMENSIONS = [
        (REFERRER, "参照元"),
        (DEVICE, "端末"),
        (CAMPAIGN, "キャンペーン"),
        (KIND, "種類"),
        (BOT_KIND, "ボットの種類"),
        (BOT_REASON, "ボットと判定した理由"),
    ]
    day = models.DateField("日付")
    dimension = models.CharField("区分", max_length=20, choices=DIMENSIONS)
    value = models.CharField("値", max_length=200)
    count = models.PositiveIntegerField("件数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "日別の内訳"
        constraints = [models.UniqueConstraint(fields=["day", "dimension", "value"], name="analytics_breakdown_unique")]

    def __str__(self):
        return f"{self.day} {self.dimension} {self.value}"


class NotFoundDay(models.Model):
    """People's requests answered 404, per path and referring page (``key``: a hash of both, for
    the uniqueness that the two long texts cannot carry in an index)."""

    day = models.DateField("日付")
    key = models.CharField(max_length=32)
    path = models.CharField("パス", max_length=500)
    referrer = models.CharField("参照元", max_length=500, blank=True)
    count = models.PositiveIntegerField("件数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "見つからなかったページ"
        constraints = [models.UniqueConstraint(fields=["day", "key"], name="analytics_notfoundday_unique")]

    def __str__(self):
        return f"{self.day} {self.path}"


class ClientKey(models.Model):
    """A client (address + user agent) of one day as an HMAC with a secret of that day, never
    the address: to count its downloads once and to remember it was a bot, across runs."""

    BOT, DOWNLOAD = "bot", "download"
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=[(BOT, "bot"), (DOWNLOAD, "download")])
    key = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "kind", "key"], name="analytics_clientkey_unique")]

    def __str__(self):
        return f"{self.day} {self.kind}"


class LoginDay(models.Model):
    """Logins of one local government's account on one day (issue 15 item 4, the first of the
    participation counts), from the audit trail's ``login.succeeded`` events. Staff accounts
    have no local government and are never counted."""

    day = models.DateField("日付")
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.CASCADE, related_name="+"
    )
    logins = models.PositiveIntegerField("ログイン数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "自治体別・日別のログイン数"
        constraints = [models.UniqueConstraint(fields=["day", "local_government"], name="analytics_loginday_unique")]
        # who logged in by a day: one probe per local government (participation_selectors)
        indexes = [models.Index(fields=["local_government", "day"], name="analytics_loginday_lg_day")]

    def __str__(self):
        return f"{self.day} {self.local_government_id}"


class ActivityDay(models.Model):
    """One local government's members' page views (counted as they happen, by
    ``middleware.ParticipationMiddleware``: in Redis and added by ``pageviews.flush``, or an
    upsert per local government, day and kind without Redis; decision 0067), 小ネタ
    posts and 意見箱 opinions (counted again from their own tables by ``count_participation``)
    on one day (decision 0050). Staff accounts have no local government and are never counted."""

    PAGE_VIEW, POST, OPINION = "page_view", "post", "opinion"
    KINDS = [(PAGE_VIEW, "会員ページの閲覧"), (POST, "小ネタの投稿"), (OPINION, "意見箱への意見")]
    day = models.DateField("日付")
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("種類", max_length=10, choices=KINDS)
    count = models.PositiveIntegerField("件数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "自治体別・日別の利用"
        constraints = [
            models.UniqueConstraint(fields=["day", "local_government", "kind"], name="analytics_activityday_unique")
        ]

    def __str__(self):
        return f"{self.day} {self.local_government_id} {self.kind}"


class PageViewBatch(models.Model):
    """A batch of members' page views counted in Redis that a flush added to ``ActivityDay``
    (``pageviews.flush``, decision 0067): its Redis key, written in the transaction that added
    its counts, so that a batch found again (a flush stopped after its commit, two flushes at
    once, a Redis restored from an earlier snapshot) is never added twice. Kept 30 days."""

    key = models.CharField("Redis のキー", max_length=200, unique=True)
    applied_at = models.DateTimeField("加算日時", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "加算済みの閲覧数のまとまり"

    def __str__(self):
        return self.key


class DocumentOpen(models.Model):
    """A local government's account opened a document (PDF, Office file, video …) on that day:
    one row however many requests (a video's range requests, a reload, a 304), so it is both a
    download of that day and the reach of the document (decision 0050). The document may be
    deleted later; its rows stay, without it, and still count as downloads."""

    day = models.DateField("日付")
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.CASCADE, related_name="+"
    )
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name="文書",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "自治体別・日別に開いた文書"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "local_government", "document"], name="analytics_documentopen_unique"
            )
        ]
        indexes = [models.Index(fields=["document", "day"])]

    def __str__(self):
        return f"{self.day} {self.local_government_id} {self.document_id}"


class ReportSettings(models.Model):
    """The 効果分析報告書's settings (one row, pk=1), edited by 管理者 and 受託者 under アクセス解析 →
    報告書の設定 (decision 0052): its title, the recipient line of its cover, and the sections the
    agency switched off (``sections_off``: table keys of ``tables.period_tables`` and the report's
    own sections; a section added later is on until switched off). Every change is audited."""

    title = models.CharField("報告書の表題", max_length=80, default="効果分析報告書")
    recipient = models.CharField(
        "宛先",
        max_length=120,
        blank=True,
        default="こども家庭庁 支援局 虐待防止対策課 御中",
        help_text="表紙に表示します。空欄なら表示しません。",
    )
    issuer = models.CharField(
        "作成者",
        max_length=120,
        blank=True,
        default="こども家庭センターポータル 運営事務局",
        help_text="表紙に表示します（団体名・事務局名。個人名は書かないでください）。",
    )
    sections_off = models.JSONField("載せない項目", default=list, blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "効果分析報告書の設定"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="analytics_reportsettings_singleton")]

    def __str__(self):
        return "効果分析報告書の設定"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "ReportSettings":
        return cls.objects.get_or_create(pk=1)[0]

    def snapshot(self) -> dict:
        return {
            "title": self.title,
            "recipient": self.recipient,
            "issuer": self.issuer,
            "sections_off": sorted(self.sections_off),
        }


class GeneratedReport(models.Model):
    """One 効果分析報告書 as it was made (decision 0052): the Word file, the PDF and the Excel
    annex of a period, kept so that what was sent to the agency can be downloaded again as it
    was. ``monthly``: made by the timer for a calendar month (one per month: the notice's URL
    points at it); otherwise made on the screen or by ``analytics_report``. Who made it is in
    the audit trail (``analytics.report_generated``), not here. No personal data: counts only."""

    SCREEN, COMMAND, TIMER = "screen", "command", "timer"
    ORIGINS = [(SCREEN, "画面から作成"), (COMMAND, "コマンドで作成"), (TIMER, "毎月の自動作成")]
    start = models.DateField("期間の初日")
    end = models.DateField("期間の末日")
    origin = models.CharField("作成の方法", max_length=10, choices=ORIGINS, default=SCREEN)
    monthly = models.BooleanField("月次", default=False)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    seconds = models.FloatField("作成にかかった秒数", default=0)
    title = models.CharField("表題", max_length=80)
    sections = models.JSONField("載せた項目", default=list, blank=True)
    docx = models.BinaryField("Word")
    pdf = models.BinaryField("PDF")
    xlsx = models.BinaryField("Excel（別添）")

    class Meta:
        verbose_name = verbose_name_plural = "作成した効果分析報告書"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["start", "end"], condition=models.Q(monthly=True), name="analytics_report_one_per_month"
            )
        ]

    def __str__(self):
        return f"{self.title}（{self.start}〜{self.end}）"


class ZeroResultSearchDay(models.Model):
    """How often the live site's search found nothing for one query on one day (issue 15 item
    3; decision 0057): the query normalised as the search does (NFKC, lower case, one space),
    cut to ``searches.MAX_QUERY`` characters, with e-mail addresses and long numbers masked.
    No address, user, session or time of day. People's searches only (no bots, no staff).
    The query may still be a person's name: it is in the privacy inventory and deleted after
    ``PRIVACY_RETENTION_DAYS["search_queries"]`` days."""

    day = models.DateField("日付")
    query = models.CharField("検索語", max_length=100)
    count = models.PositiveIntegerField("回数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "該当なしの検索（日別）"
        # the unique index (day first) also serves the reads by period
        constraints = [models.UniqueConstraint(fields=["day", "query"], name="analytics_zeroresultsearchday_unique")]

    def __str__(self):
        return f"{self.day} {self.query}"


# --- the monthly roll-up (decision 0064) ----------------------------------------------------------


class RolledUpMonth(models.Model):
    """A calendar month whose day rows are summed into the ``…Month`` tables below (``month``:
    its first day). Only closed months are rolled up (``rollup.closed_before``); a month without
    this row is read from the day tables, so a missing or pending roll-up is slower, never
    wrong. Whoever changes day rows of a rolled-up month rolls it up again in the same
    transaction (``rollup.refresh``)."""

    month = models.DateField("月", unique=True)
    built_at = models.DateTimeField("集計日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "月別に集計済みの月"
        ordering = ["month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class PageMonth(models.Model):
    """``PageDay`` summed over a month per (path, page): views, bot views, the last day the path
    was seen with that page (for a page's latest path) and the response-time histograms added
    bucket by bucket (so the percentiles of a period are those of its days' histograms)."""

    month = models.DateField("月")
    path = models.CharField("パス", max_length=500)
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="ページ", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    views = models.PositiveBigIntegerField("閲覧数", default=0)
    bot_views = models.PositiveBigIntegerField("ボットの閲覧数", default=0)
    last_day = models.DateField("最後に閲覧された日")
    times = models.JSONField("応答時間の分布", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "ページ別・月別の閲覧数"
        indexes = [models.Index(fields=["month", "path"]), models.Index(fields=["page", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.path}"


class DownloadMonth(models.Model):
    """``DownloadDay`` summed over a month per file."""

    month = models.DateField("月")
    path = models.CharField("パス", max_length=500)
    downloads = models.PositiveBigIntegerField("ダウンロード数", default=0)
    requests = models.PositiveBigIntegerField("リクエスト数", default=0)
    bot_requests = models.PositiveBigIntegerField("ボットのリクエスト数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "ファイル別・月別のダウンロード数"
        constraints = [models.UniqueConstraint(fields=["month", "path"], name="analytics_downloadmonth_unique")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.path}"


class LoginMonth(models.Model):
    """``LoginDay`` summed over a month per local government."""

    month = models.DateField("月")
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.CASCADE, related_name="+"
    )
    logins = models.PositiveIntegerField("ログイン数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "自治体別・月別のログイン数"
        constraints = [
            models.UniqueConstraint(fields=["month", "local_government"], name="analytics_loginmonth_unique")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.local_government_id}"


class ActivityMonth(models.Model):
    """``ActivityDay`` summed over a month per local government and kind."""

    month = models.DateField("月")
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("種類", max_length=10, choices=ActivityDay.KINDS)
    count = models.PositiveIntegerField("件数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "自治体別・月別の利用"
        constraints = [
            models.UniqueConstraint(fields=["month", "local_government", "kind"], name="analytics_activitymonth_unique")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.local_government_id} {self.kind}"
