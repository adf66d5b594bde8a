"""The pages every Japanese public site carries (issue 17, item 2): お問い合わせ, プライバシー
ポリシー, サイトポリシー, アクセシビリティ方針 and its 試験結果, as ordinary editable pages (PolicyPage) under
the home page, linked from the footer of every live and exported page (footer.html,
Portal.policy_links).

``ensure_policy_pages(home)`` creates the missing ones with a first text that is true to the
code (what the portal stores and why, its two cookies, the access logs' 90 days): called when
the トップページ is created in the admin (wagtail_hooks) and by the demo loader. Existing pages
are never touched, so the agency's edits stay. Decision 0044. The アクセシビリティ方針 and 試験結果
are later rewritten from data by ``accessibility.publish`` (decision 0059).
"""

from dataclasses import dataclass

from django.utils.html import escape


@dataclass(frozen=True)
class Policy:
    kind: str
    slug: str
    title: str
    summary: str
    body: tuple  # (("heading", text, anchor) | ("paragraph", text) | ("list", [items]))


def _p(text):
    return ("paragraph", text)


def _h(text, anchor):
    return ("heading", text, anchor)


POLICIES = (
    Policy(
        "contact",
        "contact",
        "お問い合わせ",
        "こども家庭センターポータルについてのお問い合わせ先（運営事務局）です。",
        (
            _h("こども家庭センターポータル運営事務局", "office"),
            _p(
                "このサイトの使い方、ログインやパスワード、登録メールアドレスの変更、掲載内容についてのお問い合わせは、"
                "運営事務局までご連絡ください。"
            ),
            (
                "list",
                [
                    "受付時間：平日 9時30分から17時30分まで（土日祝日、年末年始を除きます）",
                    "電話：（運営事務局の電話番号を掲載してください）",
                    "メール：（運営事務局のメールアドレスを掲載してください）",
                ],
            ),
            _p(
                "お問い合わせの際は、団体名と、表示された画面や日時をお知らせください。"
                "パスワードは、お問い合わせの際にもお知らせいただく必要はありません。"
            ),
            _h("制度・施策についてのお問い合わせ", "policy"),
            _p("こども家庭センターの制度・施策については、こども家庭庁 支援局 虐待防止対策課にお問い合わせください。"),
        ),
    ),
    Policy(
        "privacy",
        "privacy",
        "プライバシーポリシー（個人情報の取扱い）",
        "このサイトで取得する情報、その利用目的と保存期間です。",
        (
            _h("基本的な考え方", "basics"),
            _p(
                "こども家庭庁は、このサイトで取得する個人情報を、個人情報の保護に関する法律に従って適切に取り扱います。"
                "取得した情報を、次に掲げる目的以外に利用したり、法令に基づく場合を除いて第三者に提供したりすることはありません。"
            ),
            _h("取得する情報と利用目的", "collected"),
            (
                "list",
                [
                    "会員（自治体）のアカウント：団体名、団体コード、登録メールアドレス。ログイン、パスワード再設定のご案内、"
                    "お知らせの送信に使います。",
                    "「小ネタ」への投稿と「意見箱」へのご意見：本文と、ご記入いただいた部署名・氏名・連絡先。"
                    "掲載、内容の確認、ご意見への対応とサイトの改善に使います。",
                    "アクセスの記録（アクセスログ）：接続元のIPアドレス、日時、閲覧したページ、ブラウザーの種類。"
                    "不正なアクセスの防止と調査、障害の対応、利用状況の集計（個人を特定しない統計）に使います。",
                    "ログインと操作の記録：いつ、どのアカウントで、どの操作をしたか。不正利用の防止と調査に使います。",
                ],
            ),
            _h("クッキー（Cookie）", "cookies"),
            _p(
                "このサイトが使うクッキーは、ログインの状態を保つもの（sessionid、最長8時間で失効）と、"
                "フォームのなりすまし送信を防ぐもの（csrftoken）の2つだけです。"
                "アクセス解析や広告のためのクッキーは使っていません。"
            ),
            _h("外部サービス", "third-parties"),
            _p(
                "アクセス解析サービス、広告、SNSのボタン、外部のフォントや地図など、閲覧の情報が第三者に送られる仕組みは使っていません。"
                "外部サイトへのリンクは「（外部サイト）」と表示しています。"
            ),
            _h("保存期間", "retention"),
            (
                "list",
                [
                    "アクセスログ：90日間保存した後、自動的に削除します。",
                    "アカウントの情報：アカウントを利用している間保存します。",
                    "投稿・ご意見：掲載・対応が終わった後も、サイトの運営の記録として保存します。",
                    "ログインと操作の記録：不正利用の調査のため、こども家庭庁が定める期間保存します。",
                ],
            ),
            _h("開示・訂正などのご請求", "requests"),
            _p("ご自身の情報の開示・訂正・削除については、お問い合わせのページに掲載した運営事務局にご連絡ください。"),
        ),
    ),
    Policy(
        "site",
        "site-policy",
        "サイトポリシー（利用規約）",
        "このサイトの利用条件、リンク、著作権、免責事項です。",
        (
            _h("著作権", "copyright"),
            _p(
                "このサイトの内容の著作権は、原則としてこども家庭庁に帰属します。"
                "自治体向けの会員ページの資料・様式は、各自治体の業務の参考としてお使いいただけます。会員以外への転送や再配布はご遠慮ください。"
            ),
            _h("リンク", "links"),
            _p(
                "このサイトへのリンクは自由です。ご連絡は不要です。自治体向けの会員ページはログインが必要なため、リンクしても閲覧できません。"
            ),
            _h("会員ページのご利用", "members"),
            _p(
                "会員のアカウントは自治体ごとに発行しています。"
                "ユーザーIDとパスワードは、貴団体の中で適切に管理し、団体の外の方に知らせないでください。"
            ),
            _h("免責事項", "disclaimer"),
            _p(
                "掲載内容には注意を払っていますが、その正確性を保証するものではありません。"
                "このサイトの利用によって生じた損害について、こども家庭庁は責任を負いません。"
            ),
            _h("推奨環境", "environment"),
            _p(
                "最新版の Microsoft Edge、Google Chrome、Firefox、Safari でご覧ください。JavaScript が無効でも閲覧できます。"
            ),
        ),
    ),
    Policy(
        "accessibility",
        "accessibility",
        "ウェブアクセシビリティ方針",
        "このサイトのウェブアクセシビリティへの取組の方針、対象範囲、目標と確認方法です。",
        (
            _h("方針", "policy"),
            _p(
                "こども家庭庁は、高齢の方や障害のある方を含め、誰もがこのサイトの情報を利用できるよう、"
                "日本産業規格 JIS X 8341-3:2016「高齢者・障害者等配慮設計指針－情報通信における機器，ソフトウェア及びサービス－"
                "第3部：ウェブコンテンツ」に対応することを目標に、ウェブアクセシビリティの確保と向上に取り組みます。"
            ),
            _h("対象範囲", "scope"),
            _p(
                "こども家庭センターポータルのすべてのページ（公開ページと、自治体向けの会員ページ、ログインなどの画面）を対象とします。"
                "ただし、外部から提供を受けたPDFなどの資料、座談会の動画の一部は、対応が遅れる場合があります。"
            ),
            _h("目標とする適合レベル", "target"),
            _p("JIS X 8341-3:2016 の適合レベル AA に準拠することを目標とします。"),
            _h("確認の方法", "testing"),
            _p(
                "ページの作成・変更のたびに、自動の検査ツール（axe-core）で問題がないことを確かめています。"
                "あわせて、キーボードだけでの操作、スクリーンリーダーでの読み上げ、画面の拡大、"
                "スマートフォンの幅（320ピクセル）での表示を確認します。"
                "試験の結果は、まとまり次第このページでお知らせします。"
            ),
            _h("お気づきの点", "feedback"),
            _p("利用しにくい点にお気づきの場合は、お問い合わせのページに掲載した運営事務局までお知らせください。"),
        ),
    ),
    # Written from the data in accessibility/ by publish_accessibility_results (decision 0059),
    # which also rewrites the 方針 above; this first text stands until it runs.
    Policy(
        "a11y_results",
        "accessibility-results",
        "ウェブアクセシビリティ試験結果",
        "JIS X 8341-3:2016 に基づく試験の結果です。",
        (_p("試験の結果は、まとまり次第このページでお知らせします。"),),
    ),
)
KINDS = tuple((p.kind, p.title) for p in POLICIES)


def stream(policy: Policy) -> list:
    """The first body of a policy page as StreamField data (text escaped into the rich text)."""
    data = []
    for block in policy.body:
        if block[0] == "heading":
            data.append(("heading", {"text": block[1], "anchor": block[2]}))
        elif block[0] == "paragraph":
            data.append(("paragraph", f"<p>{escape(block[1])}</p>"))
        else:
            items = "".join(f"<li>{escape(item)}</li>" for item in block[1])
            data.append(("paragraph", f"<ul>{items}</ul>"))
    return data


def ensure_policy_pages(home, publish=None) -> int:
    """Create (and publish) the policy pages missing under ``home``; return how many."""
    from .models import PolicyPage

    existing = set(PolicyPage.objects.child_of(home).values_list("kind", flat=True))
    created = 0
    for policy in POLICIES:
        if policy.kind in existing:
            continue
        page = PolicyPage(
            title=policy.title,
            slug=policy.slug,
            kind=policy.kind,
            summary=policy.summary,
            body=stream(policy),
            show_in_menus=False,
        )
        home.add_child(instance=page)
        if publish is not None:
            publish(page)
        else:
            page.save_revision().publish()
        created += 1
    return created


def contact_path() -> str | None:
    """The path of the default site's お問い合わせ page (live and public), or None: the e-mails'
    「お問い合わせ先」 (notifications.emails.contact_url)."""
    from wagtail.models import Site

    from .models import PolicyPage

    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    page = PolicyPage.objects.live().public().child_of(site.root_page).filter(kind="contact").first()
    parts = page.get_url_parts() if page else None
    return parts[2] if parts else None
