"""The e-mails of the exchange meetings (services/invitations.py queues them)."""

from kokasen.notifications import emails

KIND_PARTICIPANT = "meeting_invitation"
KIND_FACILITATOR = "meeting_facilitator"

emails.register(emails.Kind(KIND_PARTICIPANT, "情報交換会：参加者への案内"))
emails.register(emails.Kind(KIND_FACILITATOR, "情報交換会：ファシリテーターへの案内"))
