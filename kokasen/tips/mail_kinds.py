"""The e-mails of the 小ネタ board (services.py queues them): notices to the poster's
registered addresses and the staff digest."""

from kokasen.notifications import emails

emails.register(emails.Kind("tips_digest", "小ネタ：承認待ち投稿のまとめ"))
emails.register(emails.Kind("tips_approved", "小ネタ：投稿の承認のお知らせ"))
emails.register(emails.Kind("tips_rejected", "小ネタ：投稿の非承認のお知らせ"))
emails.register(emails.Kind("tips_hidden", "小ネタ：投稿の非表示のお知らせ"))
