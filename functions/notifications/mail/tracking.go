package mail

import (
	"net/url"
	"strings"
)

// carriers are the carriers whose public tracking page the shipped email
// links to, by name as staff type it (in lower case, spaces collapsed):
// each is the page's URL up to the tracking number, which goes at the end
// of its query.
var carriers = map[string]string{
	"ups":         "https://www.ups.com/track?tracknum=",
	"usps":        "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
	"fedex":       "https://www.fedex.com/fedextrack/?trknbr=",
	"dhl":         "https://www.dhl.com/global-en/home/tracking.html?tracking-id=",
	"dhl express": "https://www.dhl.com/global-en/home/tracking.html?tracking-id=",
}

// TrackingURL is the public tracking page of the parcel carrier ships with
// number, the number escaped into its query, or "" when the carrier is not
// one the table knows (the email then shows the number without a link).
func TrackingURL(carrier, number string) string {
	prefix, ok := carriers[strings.ToLower(strings.Join(strings.Fields(carrier), " "))]
	if !ok || number == "" {
		return ""
	}
	return prefix + url.QueryEscape(number)
}
