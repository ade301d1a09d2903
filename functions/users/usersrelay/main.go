// Command usersrelay publishes the users service's account events: the
// outbox items its table's stream carries (functions/users/store) go to the
// events queue (shared/outbox).
package main

import (
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/outbox/relay"
)

func main() { coldstart.Main("usersrelay", relay.Build(store.FromStream)) }
