package mail_test

import (
	"math"
	"testing"

	"github.com/serverless-shop/backend/functions/notifications/mail"
)

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		name     string
		minor    int64
		currency string
		want     string
	}{
		{name: "zero", minor: 0, currency: "USD", want: "$0.00"},
		{name: "single cent", minor: 5, currency: "USD", want: "$0.05"},
		{name: "three integer digits", minor: 99999, currency: "USD", want: "$999.99"},
		{name: "first thousands separator", minor: 100000, currency: "USD", want: "$1,000.00"},
		{name: "grouped with cents", minor: 123456, currency: "USD", want: "$1,234.56"},
		{name: "largest amount", minor: math.MaxInt64, currency: "USD", want: "$92,233,720,368,547,758.07"},
		{name: "negative", minor: -123456, currency: "USD", want: "-$1,234.56"},
		{name: "negative cents", minor: -5, currency: "USD", want: "-$0.05"},
		{name: "smallest amount", minor: math.MinInt64, currency: "USD", want: "-$92,233,720,368,547,758.08"},
		{name: "yen has no decimals", minor: 1234567, currency: "JPY", want: "¥1,234,567"},
		{name: "won without symbol", minor: 15000, currency: "KRW", want: "15,000 KRW"},
		{name: "dinar has three decimals", minor: 1234567, currency: "KWD", want: "1,234.567 KWD"},
		{name: "bahraini dinar fraction", minor: 1050, currency: "BHD", want: "1.050 BHD"},
		{name: "unlisted currency has two decimals and a code", minor: 500, currency: "CHF", want: "5.00 CHF"},
		{name: "euro symbol", minor: 123456, currency: "EUR", want: "€1,234.56"},
		{name: "pound symbol", minor: 99, currency: "GBP", want: "£0.99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mail.FormatMoney(tc.minor, tc.currency); got != tc.want {
				t.Errorf("FormatMoney(%d, %q) = %q, want %q", tc.minor, tc.currency, got, tc.want)
			}
		})
	}
}
