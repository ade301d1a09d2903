// Command ordersrelay publishes the orders service's events: the writes of
// order items, which carry their event, that its table's stream carries
// (functions/orders/store) go to the events queue (shared/outbox).
package main

import (
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/outbox/relay"
)

func main() { coldstart.Main("ordersrelay", relay.Build(store.FromStream)) }
