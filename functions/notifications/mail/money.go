package mail

import (
	"strconv"
	"strings"
)

// minorUnits is the number of decimal places of each currency (ISO 4217).
// Currencies not listed have two.
var minorUnits = map[string]int{
	"BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0,
	"KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0,
}

var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// FormatMoney renders an amount in minor units, e.g. FormatMoney(123456,
// "USD") is "$1,234.56" and FormatMoney(500, "CHF") is "5.00 CHF". Integer
// arithmetic only: no float ever touches money.
func FormatMoney(minor int64, currency string) string {
	// The digits of the magnitude, which for math.MinInt64 an int64 does
	// not hold.
	s, neg := strings.CutPrefix(strconv.FormatInt(minor, 10), "-")
	digits, ok := minorUnits[currency]
	if !ok {
		digits = 2
	}
	s = strings.Repeat("0", max(0, digits+1-len(s))) + s // a whole digit at least
	s, frac := s[:len(s)-digits], s[len(s)-digits:]
	for i := len(s) - 3; i > 0; i -= 3 { // a comma before every third whole digit from the right
		s = s[:i] + "," + s[i:]
	}
	if digits > 0 {
		s += "." + frac
	}
	if sym, ok := symbols[currency]; ok {
		s = sym + s
	} else {
		s += " " + currency
	}
	if neg {
		s = "-" + s
	}
	return s
}
