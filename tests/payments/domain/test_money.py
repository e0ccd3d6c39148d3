from decimal import Decimal

import pytest

from payments.domain.money import Money


def test_currency_defaults_to_usd():
    assert Money(100) == Money(100, "USD")


@pytest.mark.parametrize("amount", [1.5, 100.0, Decimal("1"), "100", True, None])
def test_amount_must_be_an_int(amount):
    with pytest.raises(TypeError):
        Money(amount)


@pytest.mark.parametrize("currency", ["usd", "Usd", "US", "USDX", ""])
def test_currency_must_be_an_iso_code(currency):
    with pytest.raises(ValueError):
        Money(100, currency)


@pytest.mark.parametrize("currency", ["U$D", "US1"])
def test_currency_must_be_letters(currency):
    with pytest.raises(ValueError):
        Money(100, currency)


def test_add_and_subtract_in_one_currency():
    assert Money(31000) + Money(9500) == Money(40500)
    assert Money(9500) - Money(31000) == Money(-21500)
    assert Money(100, "EUR") + Money(1, "EUR") == Money(101, "EUR")


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b])
def test_mixing_currencies_raises(op):
    with pytest.raises(ValueError, match="USD and EUR"):
        op(Money(100, "USD"), Money(100, "EUR"))


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(245000), "$2,450.00"),
        (Money(64050), "$640.50"),
        (Money(5), "$0.05"),
        (Money(0), "$0.00"),
        (Money(-1050), "-$10.50"),
        (Money(123456789), "$1,234,567.89"),
        (Money(123450, "EUR"), "1,234.50 EUR"),
        (Money(-99, "GBP"), "-0.99 GBP"),
    ],
)
def test_display(money, shown):
    assert money.display() == shown
