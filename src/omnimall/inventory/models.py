from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("warehouse")
    STORE = "store", _("store")


class StockLocation(models.Model):
    """A warehouse or a store that holds stock."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    city = models.CharField(_("city"), max_length=60, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    can_ship = models.BooleanField(_("can ship"), default=True)
    offers_pickup = models.BooleanField(_("offers pick-up"), default=False)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower ships first.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Store staff see and edit the stock of their own stores only.
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        blank=True,
        related_name="stock_locations",
    )

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class StockLevel(models.Model):
    """Units of one SKU at one location.

    ``on_hand`` always equals the sum of the level's movements; ``reserved`` always equals
    the sum of its reservations in state ``held`` (expired or not: an expired hold keeps its
    units here until a service releases it, while selectors already stop counting it).
    Both counters change only through ``inventory.services`` with conditional ``F()``
    updates; the constraints below are the backstop.
    """

    location = models.ForeignKey(
        StockLocation,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        related_name="stock_levels",
    )
    sku = models.ForeignKey(
        "catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    # Units kept back from online sale (e.g. for walk-in shoppers in a store).
    safety_stock = models.IntegerField(_("safety stock"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "sku"], name="stocklevel_location_sku_uniq"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_lte_on_hand"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stocklevel_safety_stock_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.on_hand} on hand, {self.reserved} reserved"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    SALE = "sale", _("sale")
    RETURN = "return", _("return")
    ADJUSTMENT = "adjustment", _("adjustment")
    TRANSFER_OUT = "transfer_out", _("transfer out")
    TRANSFER_IN = "transfer_in", _("transfer in")
    COUNT_CORRECTION = "count_correction", _("count correction")


# The sign each kind must carry, checked by the database (see StockMovement.Meta).
INBOUND_KINDS = (MovementKind.RECEIPT, MovementKind.RETURN, MovementKind.TRANSFER_IN)
OUTBOUND_KINDS = (MovementKind.SALE, MovementKind.TRANSFER_OUT)


class StockMovement(models.Model):
    """One immutable ledger entry: a signed change of a level's ``on_hand``.

    Rows are only ever inserted (by ``inventory.services``), never updated or deleted;
    the admin shows them read-only.
    """

    level = models.ForeignKey(
        StockLevel,
        verbose_name=_("stock level"),
        on_delete=models.PROTECT,
        related_name="movements",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Signed: + adds units, − removes."))
    reason = models.TextField(_("reason"), blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=20)
    actor_label = models.CharField(_("who"), max_length=150)
    reference = models.CharField(_("reference"), max_length=120, blank=True, db_index=True)
    reservation = models.ForeignKey(
        "Reservation",
        verbose_name=_("reservation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=INBOUND_KINDS, quantity__gt=0)
                    | Q(kind__in=OUTBOUND_KINDS, quantity__lt=0)
                    | (
                        Q(kind__in=(MovementKind.ADJUSTMENT, MovementKind.COUNT_CORRECTION))
                        & ~Q(quantity=0)
                    )
                ),
                name="stockmovement_quantity_sign_fits_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} (level {self.level_id})"


class ReservationState(models.TextChoices):
    HELD = "held", _("held")
    COMMITTED = "committed", _("committed")
    RELEASED = "released", _("released")
    EXPIRED = "expired", _("expired")


class Reservation(models.Model):
    """Units of one level promised to an owner (a checkout or an order) until ``expires_at``.

    Only ``held`` reservations count in ``StockLevel.reserved``; a hold past ``expires_at``
    stops counting against availability at once (selectors ignore it, ``reserve_stock``
    releases it before reserving) and the periodic sweeper marks it ``expired``.
    """

    level = models.ForeignKey(
        StockLevel,
        verbose_name=_("stock level"),
        on_delete=models.PROTECT,
        related_name="reservations",
    )
    quantity = models.IntegerField(_("quantity"))
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ReservationState.choices,
        default=ReservationState.HELD,
    )
    owner_type = models.CharField(_("owner type"), max_length=40, blank=True)
    owner_id = models.CharField(_("owner id"), max_length=64, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_gt_0"),
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="reservation_state_expiry_idx"),
            # Level and state first (a level's held reservations), then the expiry: the
            # lapsed holds of one level are a range of it (selectors.stock._levels_sql).
            models.Index(fields=["level", "state", "expires_at"], name="reservation_level_exp_idx"),
            models.Index(fields=["owner_type", "owner_id"], name="reservation_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"reservation {self.pk}: {self.quantity} × level {self.level_id} ({self.state})"


class ChannelSafetyStock(models.Model):
    """Units a sales channel keeps back at a location (or at every location).

    Added to the level's own ``safety_stock`` when that channel reserves: e.g. the online
    channel leaves 2 units of everything in each store for walk-in shoppers.
    """

    channel = models.ForeignKey(
        "sales_channels.SalesChannel",
        verbose_name=_("sales channel"),
        on_delete=models.CASCADE,
        related_name="safety_stock_rules",
    )
    location = models.ForeignKey(
        StockLocation,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channel_safety_stock",
        help_text=_("Empty: every location."),
    )
    units = models.PositiveIntegerField(_("units kept back"))

    class Meta:
        verbose_name = _("channel safety stock")
        verbose_name_plural = _("channel safety stock")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "location"], name="channelsafety_channel_location_uniq"
            ),
            models.UniqueConstraint(
                fields=["channel"],
                condition=Q(location__isnull=True),
                name="channelsafety_channel_default_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.location_id or '*'}: {self.units}"


class FlashBucket(models.Model):
    """A slice of a hot level's sellable units, so concurrent buyers lock different rows.

    While a level has buckets (flash-sale mode), ``StockLevel.reserved`` counts the held
    reservations plus every bucket's ``remaining``: the units were set aside when the
    buckets were filled, and a buyer draws from one bucket without touching the level row.
    """

    level = models.ForeignKey(
        StockLevel,
        verbose_name=_("stock level"),
        on_delete=models.PROTECT,
        related_name="flash_buckets",
    )
    slot = models.PositiveSmallIntegerField(_("slot"))
    remaining = models.IntegerField(_("remaining"), default=0)

    class Meta:
        verbose_name = _("flash-sale bucket")
        verbose_name_plural = _("flash-sale buckets")
        ordering = ["level_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["level", "slot"], name="flashbucket_level_slot_uniq"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0), name="flashbucket_remaining_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"level {self.level_id} bucket {self.slot}: {self.remaining}"


class TransferState(models.TextChoices):
    DRAFT = "draft", _("draft")
    IN_TRANSIT = "in_transit", _("in transit")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")


class Transfer(models.Model):
    """Units moving from one location to another (e.g. a warehouse replenishing a store).

    Dispatch takes the units off the source (transfer-out movements); while in transit
    they belong to neither location; receipt adds them at the destination (transfer-in).
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    source = models.ForeignKey(
        StockLocation,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    destination = models.ForeignKey(
        StockLocation,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="transfers_in",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=TransferState.choices, default=TransferState.DRAFT
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_source_ne_destination"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(
        Transfer, verbose_name=_("transfer"), on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["transfer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "sku"], name="transferline_transfer_sku_uniq"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.quantity} × {self.sku_id}"


class FulfilmentMethod(models.TextChoices):
    SHIP = "ship", _("ship to the shopper")
    PICKUP = "pickup", _("pick up in store")


class FulfilmentState(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    SHIPPED = "shipped", _("shipped")
    CANCELLED = "cancelled", _("cancelled")


class FulfilmentRequest(models.Model):
    """What one location must send (or hand over) for one order: lines with their holds.

    Warehouses (WMS) and stores poll ``GET /api/v1/inventory/fulfilment-requests``; a
    shipment confirmation commits the lines' reservations (sale movements).
    """

    number = models.CharField(_("number"), max_length=24, unique=True)
    location = models.ForeignKey(
        StockLocation,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        related_name="fulfilment_requests",
    )
    method = models.CharField(
        _("method"), max_length=10, choices=FulfilmentMethod.choices, default=FulfilmentMethod.SHIP
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=FulfilmentState.choices,
        default=FulfilmentState.OPEN,
        db_index=True,
    )
    # The order it serves (filled by the orders app): its number and id.
    reference = models.CharField(_("reference"), max_length=120, db_index=True)
    owner_type = models.CharField(_("owner type"), max_length=40, blank=True)
    owner_id = models.CharField(_("owner id"), max_length=64, blank=True)
    ship_to = models.JSONField(_("ship to"), default=dict, blank=True)
    # The shopper's note to the shop, for the packer and the courier (the order's).
    note = models.CharField(_("note from the shopper"), max_length=200, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("fulfilment request")
        verbose_name_plural = _("fulfilment requests")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.number


class Shipment(models.Model):
    """A confirmed dispatch of some or all lines of a fulfilment request."""

    request = models.ForeignKey(
        FulfilmentRequest,
        verbose_name=_("fulfilment request"),
        on_delete=models.PROTECT,
        related_name="shipments",
    )
    carrier = models.CharField(_("carrier"), max_length=60)
    tracking_number = models.CharField(_("tracking number"), max_length=80, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-shipped_at", "-id"]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


def _validate_tracking_url(value: str) -> None:
    if not value:
        return
    URLValidator(schemes=["https", "http"])(value.replace("{number}", "0"))
    if "{number}" not in value:
        raise ValidationError(
            _("Put {number} where the tracking number goes."), code="no_number_placeholder"
        )


class Carrier(models.Model):
    """A parcel carrier, so shoppers read its name in their language and can follow their
    parcel on its site. Warehouses report shipments with a carrier as free text ("SF",
    "顺丰", "SF Express"); a shipment is shown under the carrier whose code, name or alias
    it matches, and as reported otherwise (``inventory.selectors.carriers``)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    aliases = models.CharField(
        _("also reported as"),
        max_length=255,
        blank=True,
        help_text=_("Other names warehouses use for this carrier, separated by commas."),
    )
    tracking_url = models.CharField(
        _("tracking page"),
        max_length=255,
        blank=True,
        validators=[_validate_tracking_url],
        help_text=_(
            "The carrier's page for one parcel, with {number} where the tracking number "
            "goes, e.g. https://www.example.com/track?no={number}. Empty: no link."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_zh} · {self.name_en}"


class FulfilmentLine(models.Model):
    request = models.ForeignKey(
        FulfilmentRequest,
        verbose_name=_("fulfilment request"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"))
    reservation = models.OneToOneField(
        Reservation,
        verbose_name=_("reservation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fulfilment_line",
    )
    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        ordering = ["request_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="fulfilmentline_quantity_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.quantity} × {self.sku_id}"
