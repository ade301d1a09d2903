package order

// EventRef names the event a change of an order announces: its id and the
// correlation id of the request that caused it (the change says which type
// of event). The stored order carries it, and the relay publishes the event
// from the order as stored (functions/orders/store), so the event always
// describes what was stored.
type EventRef struct {
	ID            string
	CorrelationID string
}
