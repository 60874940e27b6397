"""Members, tiers, the points ledger and the partner points exchange.

The points ledger is the authority: ``PointsEntry`` rows are only ever inserted, and each
member's cached balances (``points_available``, ``points_held``, ``points_pending``) are
updated in the same transaction so that each always equals the sum of the matching
delta over the member's entries. ``PointsLot`` tracks *which* available points expire
when: ``sum(lot.remaining) == points_available`` for every member.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omnimall.core.models import WEB_URL
from omnimall.members.domain import MAX_EARN_MULTIPLIER, MAX_POINTS_PER_CNY


class Tier(models.Model):
    """A membership level reached by rolling 12-month spend across every channel."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("0 = entry level."))
    min_spend = models.DecimalField(
        _("minimum 12-month spend"), max_digits=12, decimal_places=2, default=0
    )
    points_per_cny = models.DecimalField(
        _("points per CNY"),
        max_digits=6,
        decimal_places=2,
        default=1,
        # The form's messages for what the ledger could not hold (members.domain).
        validators=[MinValueValidator(0), MaxValueValidator(MAX_POINTS_PER_CNY)],
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="tier_min_spend_gte_0"),
            models.CheckConstraint(
                condition=Q(points_per_cny__gte=0), name="tier_points_per_cny_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name_en


class Member(models.Model):
    """One person across every channel, keyed by mobile number (E.164)."""

    phone = models.CharField(_("mobile"), max_length=20, unique=True)
    card_number = models.CharField(_("member card"), max_length=20, unique=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("storefront account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    home_store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("home store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="home_members",
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="members"
    )
    rolling_spend = models.DecimalField(
        _("12-month spend"), max_digits=12, decimal_places=2, default=0
    )
    tier_changed_at = models.DateTimeField(_("tier changed"), null=True, blank=True)
    consent_sms = models.BooleanField(_("SMS marketing"), default=False)
    consent_email = models.BooleanField(_("email marketing"), default=False)
    consent_wechat = models.BooleanField(_("WeChat marketing"), default=False)
    consent_updated_at = models.DateTimeField(_("consent updated"), null=True, blank=True)
    # Cached balances; each equals the sum of its delta over the member's PointsEntry rows.
    # 64-bit: an entry moves at most MAX_POINTS_PER_ENTRY, but a balance sums many.
    points_available = models.BigIntegerField(_("available points"), default=0)
    points_held = models.BigIntegerField(_("held points"), default=0)
    points_pending = models.BigIntegerField(_("pending points"), default=0)
    # Set when staff merge this member into another; its history moved there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_members",
    )
    is_active = models.BooleanField(_("active"), default=True)
    joined_store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("joined at"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_available__gte=0), name="member_points_available_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(points_held__gte=0), name="member_points_held_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(points_pending__gte=0), name="member_points_pending_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_number} {self.name or self.phone}"


class MemberNote(models.Model):
    """A customer-service note on the member 360 page."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("note"))
    author_label = models.CharField(_("by"), max_length=150)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("member note")
        verbose_name_plural = _("member notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class PhoneVerification(models.Model):
    """A one-time code sent to a mobile number to link it to a storefront account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_verifications"
    )
    phone = models.CharField(_("mobile"), max_length=20)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("phone verification")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone} ({self.created_at:%Y-%m-%d %H:%M})"


class PurchaseChannel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")


class MemberPurchase(models.Model):
    """Spend that counts toward the member's tier: a purchase (+) or a return/refund (−)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="purchases")
    channel = models.CharField(_("channel"), max_length=10, choices=PurchaseChannel.choices)
    store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    document = models.CharField(_("document"), max_length=80)
    source_key = models.CharField(max_length=200, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField(_("when"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("member purchase")
        verbose_name_plural = _("member purchases")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["member", "occurred_at"], name="purchase_member_when_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.document} {self.amount}"


class EarnRuleKind(models.TextChoices):
    EXCLUDE = "exclude", _("excluded (no points)")
    BOOST = "boost", _("boosted")


class EarnRule(models.Model):
    """Points for a category or a brand: excluded, or multiplied (e.g. ×2 in a campaign)."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=EarnRuleKind.choices)
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Applies to this category and everything below it."),
    )
    brand = models.ForeignKey(
        "catalog.Brand",
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=5,
        decimal_places=2,
        default=1,
        help_text=_("For boosts."),
        validators=[MinValueValidator(0), MaxValueValidator(MAX_EARN_MULTIPLIER)],
    )
    starts_on = models.DateField(pgettext_lazy("earning rule", "from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False) | Q(brand__isnull=False),
                name="earnrule_targets_category_or_brand",
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="earnrule_multiplier_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointsEntryKind(models.TextChoices):
    EARN = "earn", _("earned")
    MATURE = "mature", _("made available")
    SPEND = "spend", _("spent")
    HOLD = "hold", pgettext_lazy("points", "held")
    RELEASE = "release", _("hold released")
    EXPIRE = "expire", _("expired")
    REVERSE = "reverse", _("reversed")
    ADJUST = "adjust", _("adjusted")
    TRANSFER_IN = "transfer_in", _("partner transfer in")
    TRANSFER_OUT = "transfer_out", _("partner transfer out")


class PointsEntry(models.Model):
    """One immutable ledger entry: signed changes to the member's three balances.

    ``source_key`` = source system + document + line + kind (e.g. ``pos:S001:R88:0:earn``),
    unique, so a retried write posts once.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(_("kind"), max_length=20, choices=PointsEntryKind.choices)
    available_delta = models.IntegerField(pgettext_lazy("points", "available"), default=0)
    held_delta = models.IntegerField(pgettext_lazy("points", "held"), default=0)
    pending_delta = models.IntegerField(pgettext_lazy("points", "pending"), default=0)
    source_key = models.CharField(_("source key"), max_length=200, unique=True)
    document = models.CharField(_("document"), max_length=80, blank=True, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=20)
    actor_label = models.CharField(_("who"), max_length=150)
    related = models.ForeignKey(
        "self",
        verbose_name=_("related entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followers",
    )
    hold = models.ForeignKey(
        "PointsHold",
        verbose_name=pgettext_lazy("points", "hold"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="points_member_when_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(available_delta=0) | ~Q(held_delta=0) | ~Q(pending_delta=0),
                name="pointsentry_changes_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.available_delta:+d}/{self.held_delta:+d}/{self.pending_delta:+d}"


class PointsLot(models.Model):
    """Points that became available together and expire together (spent soonest-first)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_lots")
    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="lots")
    points = models.PositiveIntegerField(_("points"))
    remaining = models.PositiveIntegerField(_("remaining"))
    available_at = models.DateTimeField(_("available from"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["expires_at", "id"]
        indexes = [
            models.Index(
                fields=["member", "expires_at"],
                condition=Q(remaining__gt=0),
                name="pointslot_open_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=F("points")), name="pointslot_remaining_lte_points"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_at:%Y-%m-%d}"


class HoldPurpose(models.TextChoices):
    POS = "pos", _("till")
    CHECKOUT = "checkout", _("online checkout")
    PARTNER = "partner", _("partner transfer")


class HoldState(models.TextChoices):
    HELD = "held", pgettext_lazy("points", "held")
    COMMITTED = "committed", _("committed")
    RELEASED = "released", pgettext_lazy("points", "released")
    EXPIRED = "expired", _("expired")


class PointsHold(models.Model):
    """Points set aside for a till receipt, an online order or a partner transfer.

    Claimed once: the state moves from ``held`` by a conditional update only.
    ``lots`` records which lots gave the points ({lot_id: points}) so a release puts
    them back where they came from.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_holds")
    purpose = models.CharField(_("purpose"), max_length=10, choices=HoldPurpose.choices)
    source_key = models.CharField(_("source key"), max_length=200, unique=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True, db_index=True)
    points = models.PositiveIntegerField(_("points"))
    state = models.CharField(
        _("state"), max_length=10, choices=HoldState.choices, default=HoldState.HELD
    )
    lots = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points hold")
        verbose_name_plural = _("points holds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="pointshold_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.points} {self.state} ({self.reference})"


# --- partner points exchange -------------------------------------------------------------


class Partner(models.Model):
    """A bank, insurer or airline points mall exchanging points with the brand."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    # The HMAC secret, encrypted with a key derived from SECRET_KEY (verification needs it).
    secret_encrypted = models.TextField()
    # Where outbound reservations are sent (through the outbox).
    outbound_url = models.URLField(_("outbound URL"), blank=True, validators=[WEB_URL])
    inbound_daily_limit = models.PositiveIntegerField(
        _("daily limit per member (brand points in)"), default=50000
    )
    outbound_daily_limit = models.PositiveIntegerField(
        _("daily limit per member (brand points out)"), default=50000
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("points partner")
        verbose_name_plural = _("points partners")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TransferDirection(models.TextChoices):
    INBOUND = "in", _("partner → brand")
    OUTBOUND = "out", _("brand → partner")


class PartnerRate(models.Model):
    """Brand points per partner point, from a date on (the latest rate not after the day)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="rates")
    direction = models.CharField(_("direction"), max_length=3, choices=TransferDirection.choices)
    brand_points_per_partner_point = models.DecimalField(
        _("brand points per partner point"),
        max_digits=10,
        decimal_places=4,
        # The form's message for what the check constraint below would refuse.
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("conversion rate")
        verbose_name_plural = _("conversion rates")
        ordering = ["partner", "direction", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "direction", "valid_from"], name="partnerrate_day_uniq"
            ),
            models.CheckConstraint(
                condition=Q(brand_points_per_partner_point__gt=0), name="partnerrate_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.direction} {self.brand_points_per_partner_point}"


class PartnerNonce(models.Model):
    """A nonce a partner already used (kept past the timestamp window, then purged)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "nonce"], name="partnernonce_uniq"),
        ]

    def __str__(self) -> str:
        return self.nonce


class TransferState(models.TextChoices):
    RESERVED = "reserved", _("reserved, waiting for the partner")
    COMPLETED = "completed", _("completed")
    FAILED = "failed", _("failed, points released")


class PartnerTransfer(models.Model):
    """Points converted between a partner's programme and the brand's."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="transfers")
    direction = models.CharField(_("direction"), max_length=3, choices=TransferDirection.choices)
    # Inbound: the partner's transaction id. Outbound: ours, sent to the partner.
    transaction_id = models.CharField(_("transaction id"), max_length=64)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="partner_transfers")
    # The member's account number in the partner's programme, as the member or the
    # partner gave it (optional): it goes out with the request and in the daily statement.
    partner_account = models.CharField(_("account at the partner"), max_length=64, blank=True)
    partner_points = models.PositiveIntegerField(_("partner points"))
    brand_points = models.PositiveIntegerField(_("brand points"))
    rate = models.DecimalField(_("rate"), max_digits=10, decimal_places=4)
    state = models.CharField(_("state"), max_length=10, choices=TransferState.choices)
    hold = models.ForeignKey(
        PointsHold, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payload_hash = models.CharField(max_length=64, blank=True)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    partner_reference = models.CharField(_("partner reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("partner transfer")
        verbose_name_plural = _("partner transfers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "direction", "transaction_id"], name="partnertransfer_txn_uniq"
            ),
            models.CheckConstraint(condition=Q(brand_points__gt=0), name="partnertransfer_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.direction} {self.transaction_id}"


class PartnerReconciliation(models.Model):
    """The result of matching a partner's daily statement against our transfers."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="reconciliations")
    day = models.DateField(_("day"))
    file_name = models.CharField(_("file"), max_length=255)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    mismatches = models.JSONField(_("mismatches"), default=list, blank=True)
    created_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner reconciliation")
        verbose_name_plural = _("partner reconciliations")
        ordering = ["-day", "-id"]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.day}: {len(self.mismatches)} mismatches"


class SandboxPartnerRequest(models.Model):
    """The sandbox partner's own book of the transfer requests omnimall sent it.

    This is the *partner's* side, kept apart from ``PartnerTransfer`` (the shop's side)
    as a real bank's systems would be: the sandbox partner learns of a transfer only from
    the signed request it received, and the shop learns the answer only from the signed
    confirmation the sandbox partner sends back (members/partners/sandbox.py).
    """

    transaction_id = models.CharField(_("transaction id"), max_length=64, unique=True)
    member_card = models.CharField(_("member card"), max_length=32, blank=True)
    partner_account = models.CharField(_("account at the partner"), max_length=64, blank=True)
    partner_points = models.PositiveIntegerField(_("partner points"))
    brand_points = models.PositiveIntegerField(_("brand points"))
    confirm_url = models.CharField(_("confirmation URL"), max_length=500)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    # What the sandbox partner answered ("completed" / "failed"), and how the shop took it.
    answer = models.CharField(_("answer"), max_length=10, blank=True)
    answer_status = models.PositiveSmallIntegerField(_("shop's HTTP status"), null=True)
    answered_at = models.DateTimeField(_("answered"), null=True)

    class Meta:
        verbose_name = _("sandbox partner request")
        verbose_name_plural = _("sandbox partner requests")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.transaction_id
