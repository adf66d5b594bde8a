"""StreamField blocks of the public pages. Each block has one template in templates/blocks/."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock

RICH_FEATURES = ["bold", "ol", "ul", "link", "document-link"]

anchor_validator = RegexValidator(
    r"^[a-z][a-z0-9-]*$", "アンカーIDは半角英小文字で始め、半角英小文字・数字・ハイフンで入力してください。"
)


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label="見出し", max_length=120)
    anchor = blocks.CharBlock(
        label="アンカーID",
        max_length=60,
        validators=[anchor_validator],
        help_text="ページ内リンクの飛び先になります（例: apply）。公開後は変えないでください。",
    )

    class Meta:
        icon = "title"
        label = "見出し"
        template = "blocks/heading.html"


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(label="質問・項目名", max_length=200)
    answer = blocks.RichTextBlock(label="回答・内容", features=RICH_FEATURES)


class AccordionBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="見出し（任意）", required=False, max_length=120)
    items = blocks.ListBlock(FaqItemBlock(), label="項目", min_num=1)

    class Meta:
        icon = "list-ul"
        label = "アコーディオン・FAQ"
        template = "blocks/accordion.html"


class DocumentItemBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label="ファイル")
    title = blocks.CharBlock(label="表示名（空欄ならファイルのタイトル）", required=False, max_length=200)


class DocumentListBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="見出し（任意）", required=False, max_length=120)
    documents = blocks.ListBlock(DocumentItemBlock(), label="ファイル", min_num=1)

    class Meta:
        icon = "doc-full"
        label = "資料一覧"
        template = "blocks/document_list.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label="画像")
    alt = blocks.CharBlock(
        label="代替テキスト",
        max_length=300,
        help_text="画像の内容を文章で説明してください（読み上げソフトで読まれます）。",
    )
    caption = blocks.CharBlock(label="キャプション（任意）", required=False, max_length=200)

    class Meta:
        icon = "image"
        label = "画像"
        template = "blocks/image.html"


class LinkItemBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="リンク名", max_length=200)
    page = blocks.PageChooserBlock(label="サイト内ページ", required=False)
    url = blocks.URLBlock(label="外部URL", required=False)

    def clean(self, value):
        value = super().clean(value)
        if bool(value.get("page")) == bool(value.get("url")):
            raise blocks.StructBlockValidationError(
                block_errors={"url": ValidationError("サイト内ページか外部URLのどちらか一方を指定してください。")}
            )
        return value


class LinkListBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="見出し（任意）", required=False, max_length=120)
    links = blocks.ListBlock(LinkItemBlock(), label="リンク", min_num=1)

    class Meta:
        icon = "link"
        label = "リンク集"
        template = "blocks/link_list.html"


class NoticeBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(label="種類", choices=[("info", "お知らせ"), ("warning", "注意")], default="info")
    title = blocks.CharBlock(label="見出し", max_length=120)
    text = blocks.TextBlock(label="本文")

    class Meta:
        icon = "warning"
        label = "注意書き"
        template = "blocks/notice.html"


class CaptionedTableBlock(blocks.StructBlock):
    caption = blocks.CharBlock(label="表題", max_length=200)
    table = TableBlock(
        label="表",
        table_options={"startRows": 3, "startCols": 3, "colHeaders": False, "rowHeaders": False},
    )

    class Meta:
        icon = "table"
        label = "表"
        template = "blocks/table.html"


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(label="本文", features=RICH_FEATURES, template="blocks/paragraph.html")
    accordion = AccordionBlock()
    documents = DocumentListBlock()
    image = ImageBlock()
    links = LinkListBlock()
    notice = NoticeBlock()
    table = CaptionedTableBlock()

    def clean(self, value):
        value = super().clean(value)
        anchors = [child.value["anchor"] for child in value if child.block_type == "heading"]
        duplicates = sorted({a for a in anchors if anchors.count(a) > 1})
        if duplicates:
            raise blocks.StreamBlockValidationError(
                non_block_errors=ValidationError("見出しのアンカーIDが重複しています: " + "、".join(duplicates))
            )
        return value
