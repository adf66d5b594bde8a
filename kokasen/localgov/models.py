from django.db import models


class LocalGovernment(models.Model):
    """One of the 47 prefectures or 1,741 municipalities (市区町村).

    Loaded from data/municipalities.csv (総務省「全国地方公共団体コード」 and the 2020
    census); see data/PROVENANCE.md for sources and licence.
    """

    class Kind(models.TextChoices):
        PREFECTURE = "prefecture", "都道府県"
        DESIGNATED_CITY = "designated_city", "政令指定都市"
        CITY = "city", "市"
        SPECIAL_WARD = "special_ward", "特別区"
        TOWN = "town", "町"
        VILLAGE = "village", "村"

    class Area(models.TextChoices):
        EAST = "east", "東日本"
        WEST = "west", "西日本"

    code = models.CharField("団体コード", max_length=6, unique=True)
    prefecture_code = models.CharField("都道府県コード", max_length=2, db_index=True)
    prefecture = models.CharField("都道府県名", max_length=10)
    name = models.CharField("団体名", max_length=20)
    name_kana = models.CharField("団体名（カナ）", max_length=40)
    kind = models.CharField("区分", max_length=20, choices=Kind.choices)
    # NULL, never 0, where the census has no figure (双葉町 in 2020).
    population = models.PositiveIntegerField("人口（令和2年国勢調査）", null=True, blank=True)
    area = models.CharField("エリア", max_length=4, choices=Area.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = "地方公共団体"
        verbose_name_plural = "地方公共団体"
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{6}$"), name="localgov_code_six_digits"),
        ]

    def __str__(self):
        if self.kind == self.Kind.PREFECTURE:
            return self.name
        return f"{self.prefecture}{self.name}"
