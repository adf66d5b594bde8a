"""Labels of the grouping screen (grouping_display.py). Pure: no database."""

from kokasen.meetings import grouping_display as display


def test_population_labels():
    assert display.format_population(8523) == "8,523"
    assert display.format_population(12_345) == "1.2万"
    assert display.format_population(20_000) == "2万"
    assert display.format_population(1_404_000) == "140万"
    assert display.population_range_label(12_000, 34_000) == "1.2万〜3.4万人（2.8倍）"
    assert display.population_range_label(5_000, 5_000) == "5,000人"
    assert display.population_range_label(None, None, 1) == "人口不明"
    assert display.population_range_label(3_000, 9_000, 1) == "3,000〜9,000人（3.0倍）、人口不明1団体"
