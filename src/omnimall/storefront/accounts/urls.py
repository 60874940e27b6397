from django.urls import path

from .views import account, auth, orders

app_name = "account"
urlpatterns = [
    path("account/", account.home, name="home"),
    path("account/signup/", auth.signup, name="signup"),
    path("account/login/", auth.SignInView.as_view(), name="login"),
    path("account/logout/", auth.SignOutView.as_view(), name="logout"),
    path("account/password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "account/password-reset/sent/",
        auth.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/password-reset/done/",
        auth.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/addresses/", account.addresses, name="addresses"),
    path("account/addresses/new/", account.address_edit, name="address_add"),
    path("account/addresses/<int:address_id>/", account.address_edit, name="address_edit"),
    path(
        "account/addresses/<int:address_id>/delete/",
        account.address_delete,
        name="address_delete",
    ),
    path("account/orders/", account.orders, name="orders"),
    path("account/apps/<int:token_id>/sign-out/", account.app_sign_out, name="app_sign_out"),
    path("orders/find/", orders.order_lookup, name="order_lookup"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/status/", orders.order_status, name="order_status"),
    path("orders/<str:number>/pickup-qr.svg", orders.order_pickup_qr, name="order_pickup_qr"),
    path("orders/<str:number>/cancel/", orders.order_cancel, name="order_cancel"),
    path("orders/<str:number>/received/", orders.order_received, name="order_received"),
    path("orders/<str:number>/keep/", orders.order_keep_longer, name="order_keep_longer"),
    path("orders/<str:number>/collector/", orders.order_collector, name="order_collector"),
    path("orders/<str:number>/pay/", orders.order_pay, name="order_pay"),
    path("orders/<str:number>/return/", orders.order_return, name="order_return"),
    path("orders/<str:number>/invoice/", orders.order_invoice, name="order_invoice"),
    path("orders/<str:number>/address/", orders.order_address, name="order_address"),
    path("orders/<str:number>/store/", orders.order_store, name="order_store"),
    path("orders/<str:number>/buy-again/", orders.order_buy_again, name="order_buy_again"),
]
