"""Orders: what a shopper bought, at what price, from where, and everything since.

The state machine lives in ``orders.domain`` (one place); ``state`` here is only ever
changed by ``orders.services`` through it. Lines snapshot the product name, SKU code and
the unit price computed on the server at checkout. ``OrderAllocation`` says which
location serves how many units of a line, with the stock reservation that holds them
and, once paid, the fulfilment request that ships them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderState(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("pending payment")
    PAID = "paid", _("paid")
    ALLOCATED = "allocated", _("allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("partially shipped")
    SHIPPED = "shipped", _("shipped")
    READY_FOR_PICKUP = "ready_for_pickup", _("ready for pick-up")
    DELIVERED = "delivered", _("delivered")
    PICKED_UP = "picked_up", _("picked up")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")
    PARTLY_REFUNDED = "partly_refunded", _("partly refunded")
    REFUNDED = "refunded", _("refunded")
    RETURNED = "returned", _("returned")


class DeliveryMethod(models.TextChoices):
    SHIP = "ship", _("delivery")
    PICKUP = "pickup", _("pick up in store")


class CreditReason(models.TextChoices):
    REFERRAL = "referral", _("store referral code")
    PICKUP_STORE = "pickup_store", _("pick-up store")
    HOME_STORE = "home_store", _("shopper's home store")
    DELIVERY_CITY = "delivery_city", _("store serving the delivery city")


class CancelReason(models.TextChoices):
    """Why an order was cancelled: the shopper's own answer, or how the shop did it."""

    CHANGED_MIND = "changed_mind", _("I changed my mind")
    WRONG_ITEMS = "wrong_items", _("I chose the wrong item, size or colour")
    WRONG_DETAILS = "wrong_details", _("The address or contact details are wrong")
    CHEAPER = "cheaper", _("I found it cheaper elsewhere")
    TOO_SLOW = "too_slow", _("It takes too long to arrive")
    PAYMENT_TROUBLE = "payment_trouble", _("I had trouble paying")
    OTHER = "other", _("Another reason")
    NOT_SAID = "not_said", _("the shopper did not say")
    NOT_PAID = "not_paid", _("not paid in time")
    NOT_COLLECTED = "not_collected", _("not collected from the store")
    BY_STAFF = "by_staff", _("cancelled by staff")


# What a shopper may answer (the rest the shop records itself).
SHOPPER_CANCEL_REASONS = (
    CancelReason.CHANGED_MIND,
    CancelReason.WRONG_ITEMS,
    CancelReason.WRONG_DETAILS,
    CancelReason.CHEAPER,
    CancelReason.TOO_SLOW,
    CancelReason.PAYMENT_TROUBLE,
    CancelReason.OTHER,
)


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=20)  # unique: Meta
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shopper"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    # Lets a guest see the order (confirmation page, emailed link) without an account.
    guest_token = models.CharField(_("guest token"), max_length=64)  # unique: Meta
    cart_token = models.CharField(_("cart"), max_length=64, blank=True)  # indexed: Meta
    channel_code = models.CharField(_("channel"), max_length=40, default="online")
    state = models.CharField(
        _("state"),
        max_length=30,
        choices=OrderState.choices,
        default=OrderState.PENDING_PAYMENT,
    )  # indexed: Meta
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=20)
    contact_name = models.CharField(_("name"), max_length=60)
    delivery_method = models.CharField(
        _("delivery method"), max_length=10, choices=DeliveryMethod.choices
    )
    # {"name", "phone", "province", "city", "district", "street", "postal_code"}; empty
    # for pick-up.
    ship_to = models.JSONField(_("ship to"), default=dict, blank=True)
    # What the shopper asked at checkout (买家留言: "call before delivering"), for whoever
    # packs and delivers it; one line, as typed.
    shopper_note = models.CharField(_("note from the shopper"), max_length=200, blank=True)
    pickup_store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("pick-up store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pickup_orders",
    )
    pickup_code = models.CharField(_("pick-up code"), max_length=8, blank=True)  # indexed: Meta
    # Someone the shopper sends to collect a pick-up (代取人): shown at the pick-up desk and
    # texted the code (``services.collector``); blank when the shopper comes themselves.
    collector_name = models.CharField(_("collected by"), max_length=60, blank=True)
    collector_phone = models.CharField(_("collector's phone"), max_length=20, blank=True)
    credited_store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("credited store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credited_orders",
    )
    credit_reason = models.CharField(
        _("credit reason"), max_length=20, choices=CreditReason.choices, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2)
    shipping = models.DecimalField(
        _("shipping"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    amount_paid = models.DecimalField(
        _("amount paid"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    amount_refunded = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    # Points paid with (members' points ledger): ``points_value`` of ``total`` is covered
    # by ``points_used`` points; the gateway is asked for the rest.
    points_used = models.PositiveIntegerField(_("points used"), default=0)
    points_value = models.DecimalField(
        _("paid with points"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)
    # Until when the stock is held for payment; an unpaid order past it is cancelled.
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False, db_index=True)
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready for pick-up"), null=True, blank=True)
    # A pick-up put aside waits until then; the uncollected sweep cancels it after. Set when
    # it becomes ready (``ready_at`` + ``PICKUP_UNCOLLECTED_DAYS``), later when the shopper
    # or the store keeps it longer (``services.collect_by``).
    collect_by = models.DateTimeField(_("collect by"), null=True, blank=True)
    # When the shopper asked for more days themselves: they may once.
    pickup_extended_at = models.DateTimeField(_("kept longer at"), null=True, blank=True)
    # When the "still waiting" reminder went out (``pickup_reminders``): at most once.
    pickup_reminded_at = models.DateTimeField(_("pick-up reminder sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When the shopper was reminded to pay before the hold ends (services.payment_reminders).
    payment_reminded_at = models.DateTimeField(_("reminded to pay"), null=True, blank=True)
    # Why it was cancelled (empty until it is): for "why do shoppers cancel?".
    cancel_reason = models.CharField(
        _("cancel reason"), max_length=20, choices=CancelReason.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        # Shoppers' names, phones and addresses in bulk (personal data under PIPL): a right
        # of its own, not implied by seeing orders one list page at a time.
        # A refund outside a cancellation or a return (goodwill, a damaged item kept, a late
        # parcel) is money leaving the shop on someone's judgement: a right of its own.
        permissions = [
            ("export_order", "Can export orders as CSV"),
            ("refund_order", "Can refund part of an order"),
        ]
        # The text columns' indexes and unique constraints are declared here, not with
        # ``unique=True`` / ``db_index=True`` on the field: on PostgreSQL those add a second
        # ``varchar_pattern_ops`` index per column for ``LIKE 'x%'``, which nothing asks of
        # these columns (numbers, tokens, codes and states are looked up whole), and every
        # new order and every change of state wrote them too. Migration 0006.
        indexes = [
            # The worker's search for paid orders waiting to be allocated (after every
            # payment): a few rows at any time, however many orders there are.
            models.Index(
                fields=["paid_at", "id"],
                name="order_paid_waiting",
                condition=models.Q(state="paid", needs_attention=False),
            ),
            # Checkout's count of a shopper's orders awaiting payment (checkout's limits).
            models.Index(
                fields=["phone"],
                name="order_unpaid_phone",
                condition=models.Q(state="pending_payment"),
            ),
            models.Index(fields=["state"], name="order_state_idx"),
            models.Index(fields=["pickup_code"], name="order_pickup_code_idx"),
            models.Index(fields=["cart_token"], name="order_cart_token_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="order_number_uniq"),
            models.UniqueConstraint(fields=["guest_token"], name="order_guest_token_uniq"),
            models.CheckConstraint(
                condition=models.Q(total__gte=0, amount_paid__gte=0, amount_refunded__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_paid")),
                name="order_refunded_lte_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT)
    sku_code = models.CharField(_("SKU code"), max_length=64)
    product_name = models.CharField(_("product"), max_length=200)
    variant = models.CharField(_("variant"), max_length=80, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    quantity_returned = models.PositiveSmallIntegerField(_("returned"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity_returned__lte=models.F("quantity")),
                name="orderline_quantities_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_code}"


class OrderAllocation(models.Model):
    """``quantity`` units of a line served by one location."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    location = models.ForeignKey(
        "inventory.StockLocation", verbose_name=_("location"), on_delete=models.PROTECT
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    reservation = models.ForeignKey(
        "inventory.Reservation", null=True, blank=True, on_delete=models.SET_NULL
    )
    fulfilment_line = models.ForeignKey(
        "inventory.FulfilmentLine", null=True, blank=True, on_delete=models.SET_NULL
    )
    # A rejected or cancelled allocation stays as history; a live one serves the line.
    is_live = models.BooleanField(_("live"), default=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.line_id} at {self.location_id}"


class OrderEventKind(models.TextChoices):
    STATE = "state", _("state change")
    PAYMENT = "payment", _("payment")
    REFUND = "refund", _("refund")
    FULFILMENT = "fulfilment", _("fulfilment")
    EMAIL = "email", _("email")
    TEXT = "text", _("text message")
    NOTE = "note", _("staff note")
    RETURN = "return", _("return")
    PROBLEM = "problem", _("problem")
    INVOICE = "invoice", _("invoice")
    ACCOUNT = "account", _("account")


class OrderEvent(models.Model):
    """The order's timeline: every state change, payment, shipment, email and staff note."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=OrderEventKind.choices)
    state_from = models.CharField(_("from"), max_length=30, blank=True)
    state_to = models.CharField(_("to"), max_length=30, blank=True)
    message = models.TextField(_("message"), blank=True)
    # ``message`` as its English template and parameters when it carries figures, so it
    # can be shown in the reader's language (``orders.texts``); None for fixed texts,
    # typed notes and events from before. Apart from ``data``: those are the event's facts.
    message_text = models.JSONField(_("message template"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order timeline")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.state_to or self.message[:40]}"


class ReturnState(models.TextChoices):
    REQUESTED = "requested", _("requested")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    RECEIVED = "received", _("received")
    REFUNDED = "refunded", _("refunded")


# A return still being dealt with: the order is in after-sales until it is refunded or refused.
OPEN_RETURN_STATES = (ReturnState.REQUESTED, ReturnState.APPROVED, ReturnState.RECEIVED)


class ReturnRequest(models.Model):
    number = models.CharField(_("return number"), max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    state = models.CharField(
        _("state"), max_length=20, choices=ReturnState.choices, default=ReturnState.REQUESTED
    )
    reason = models.TextField(_("reason"))
    staff_note = models.TextField(_("staff note"), blank=True)
    received_at_location = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("received at"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    refund_amount = models.DecimalField(
        _("refund amount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="returnline_qty_pos")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.order_line_id}"


class InvoiceKind(models.TextChoices):
    PERSONAL = "personal", _("personal")
    COMPANY = "company", _("company")


class InvoiceState(models.TextChoices):
    REQUESTED = "requested", _("requested")
    ISSUED = "issued", _("issued")


class InvoiceRequest(models.Model):
    """The shopper's request for an electronic invoice (fapiao, 电子普通发票) for an order.

    One per order. Asked at checkout or later from the order page; issued by finance (the
    tax system is outside the shop: staff or an integration record the invoice number and
    its PDF once issued, and the shopper is emailed). ``amount`` is what the invoice covers:
    what was paid less what was refunded when it was issued.
    """

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="invoice", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InvoiceKind.choices)
    title = models.CharField(_("invoice title"), max_length=100)
    tax_id = models.CharField(_("taxpayer ID"), max_length=20, blank=True)
    email = models.EmailField(_("send to"))
    state = models.CharField(
        _("state"), max_length=10, choices=InvoiceState.choices, default=InvoiceState.REQUESTED
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    pdf_url = models.URLField(_("invoice PDF"), max_length=500, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoices (fapiao)")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["state", "requested_at"], name="invoice_state_idx")]

    def __str__(self) -> str:
        return f"{self.order.number} {self.title} ({self.get_state_display()})"
