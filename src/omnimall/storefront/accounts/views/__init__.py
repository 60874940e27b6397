"""Shopper-account pages: sign-up and sign-in, the account, and the shopper's orders."""
