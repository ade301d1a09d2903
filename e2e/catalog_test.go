//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// localCatalogFresh is how long the orders function keeps its copy of the
// catalog on the local cloud (CatalogFreshSeconds in localstack/params.sh;
// five minutes on AWS). Every copy read after a change has it, so a change
// reaches every execution environment within it.
const localCatalogFresh = 15 * time.Second

// staffProductDoc is a product as staff see it.
type staffProductDoc struct {
	productDoc
	Active bool  `json:"active"`
	Stock  int64 `json:"stock"`
}

// promoteToStaff makes the verified account u staff with make staff, as an
// operator does, and logs it in again: the promotion ended its sessions,
// and a new login's token carries the role.
func promoteToStaff(t *testing.T, u *user) {
	t.Helper()
	wantMakeStaff(t, u.Email, "", "is staff now")
	u.login(t)
}

// staffUser is a new verified account made staff.
func staffUser(t *testing.T) user {
	t.Helper()
	u := signUp(t, "staff-member")
	promoteToStaff(t, &u)
	return u
}

// bearerFor is the Authorization of the staff member on a staff path
// (/v1/admin/*), of the customer on any other.
func bearerFor(path string, customer, staff user) []string {
	if strings.HasPrefix(path, "/v1/admin/") {
		return staff.bearer()
	}
	return customer.bearer()
}

// customers signs up n customers, each in a subtest of its own (so each
// from an address of its own, as real customers are).
func customers(t *testing.T, n int, tag string) []user {
	t.Helper()
	out := make([]user, n)
	for i := range out {
		t.Run(fmt.Sprintf("sign up %s %d", tag, i), func(t *testing.T) { out[i] = signUp(t, tag) })
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// stock is the staff's view of the product's stock.
func stock(t *testing.T, staff user, sku string) int64 {
	t.Helper()
	var p staffProductDoc
	call(t, "GET", "/v1/admin/products/"+sku, nil, staff.bearer()...).Expect(t, 200).JSON(t, &p)
	return p.Stock
}

// outOfStock checks that r is the out-of-stock problem naming exactly the
// fields.
func outOfStock(t *testing.T, r *apitest.Response, fields ...string) {
	t.Helper()
	if got := r.Problem(t, http.StatusConflict, "out-of-stock").Fields(); strings.Join(got, " ") != strings.Join(fields, " ") {
		t.Fatalf("out-of-stock names %v, want %v", got, fields)
	}
}

// TestStaffRunTheCatalogAndStockNeverOversells is the back office's
// "done when": a staff member adds products and sets their stock; 20
// customers ordering the last 5 units at once get exactly 5 orders, the
// others 409 out-of-stock, and the stock reads 0; a cancel gives a unit
// back; an Idempotency-Key's replay takes nothing; an order with one short
// line writes nothing; 50 buyers at once of 20 units get exactly 20
// orders, the stock never reading below 0; a price change is used for the
// orders placed once the catalog copies are refreshed, never for those
// placed before; an archived product is 404 and 422 for customers, and old
// orders still show it.
func TestStaffRunTheCatalogAndStockNeverOversells(t *testing.T) {
	t.Parallel()
	staff := staffUser(t)
	buyers := customers(t, 25, "buyer")
	run := time.Now().UnixNano() % 1_000_000_000
	sku := func(name string) string { return fmt.Sprintf("E2E-%s-%d", name, run) }
	hot, other, flash := sku("HOT"), sku("OTHER"), sku("FLASH")
	for _, s := range []string{hot, other, flash} {
		var p staffProductDoc
		call(t, "POST", "/v1/admin/products", map[string]any{"sku": s, "name": "Limited " + s, "description": "A few only.", "unitPrice": 1000, "currency": "USD"},
			staff.bearer()...).Expect(t, 201).JSON(t, &p)
		if !p.Active || p.Stock != 0 || p.UnitPrice != 1000 {
			t.Fatalf("created %+v", p)
		}
	}
	call(t, "POST", "/v1/admin/products", map[string]any{"sku": hot, "name": "Again", "description": "", "unitPrice": 1, "currency": "USD"}, staff.bearer()...).Problem(t, 409, "conflict")
	call(t, "POST", "/v1/admin/products/"+hot+"/stock", map[string]any{"set": 5, "expected": 0}, staff.bearer()...).Expect(t, 200)
	call(t, "POST", "/v1/admin/products/"+hot+"/stock", map[string]any{"set": 9, "expected": 0}, staff.bearer()...).Problem(t, 409, "conflict")
	call(t, "POST", "/v1/admin/products/"+flash+"/stock", map[string]any{"delta": 20}, staff.bearer()...).Expect(t, 200)
	call(t, "POST", "/v1/admin/products/"+flash+"/stock", map[string]any{"delta": -21}, staff.bearer()...).Problem(t, 409, "conflict")
	time.Sleep(localCatalogFresh + time.Second) // every copy of the catalog has them now

	t.Run("20 customers, 5 units", func(t *testing.T) {
		var next atomic.Int64
		answers := race(20, func() *apitest.Response {
			b := buyers[next.Add(1)-1]
			return call(t, "POST", "/v1/orders", items(hot, 1), b.bearer()...)
		})
		if placed := winners(t, answers, 201, 409); placed != 5 {
			t.Fatalf("%d orders placed of 5 units, want 5", placed)
		}
		var first orderDoc
		for _, r := range answers {
			switch r.StatusCode {
			case 409:
				outOfStock(t, r, "items[0].sku")
			case 201:
				if first.ID == "" {
					r.JSON(t, &first)
				}
			}
		}
		if left := stock(t, staff, hot); left != 0 {
			t.Fatalf("stock %d after the sale, want 0", left)
		}
		// One order cancelled: its unit is back, once.
		owner := ""
		for _, b := range buyers[:20] {
			if call(t, "GET", "/v1/orders/"+first.ID, nil, b.bearer()...).StatusCode == 200 {
				owner = b.Access
			}
		}
		bearer := []string{"Authorization", "Bearer " + owner}
		call(t, "POST", "/v1/orders/"+first.ID+"/cancel", nil, bearer...).Expect(t, 200)
		call(t, "POST", "/v1/orders/"+first.ID+"/cancel", nil, bearer...).Problem(t, 409, "order-not-cancellable")
		if left := stock(t, staff, hot); left != 1 {
			t.Fatalf("stock %d after a cancel, want 1", left)
		}
	})

	t.Run("a replay takes nothing; a short line writes nothing", func(t *testing.T) {
		b := buyers[20]
		call(t, "POST", "/v1/admin/products/"+hot+"/stock", map[string]any{"delta": 2}, staff.bearer()...).Expect(t, 200)
		key := append(b.bearer(), "Idempotency-Key", "flash-"+hot)
		call(t, "POST", "/v1/orders", items(hot, 1), key...).Expect(t, 201)
		if replay := call(t, "POST", "/v1/orders", items(hot, 1), key...).Expect(t, 201); replay.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("the second request with the key was not a replay")
		}
		if left := stock(t, staff, hot); left != 2 {
			t.Fatalf("stock %d after an order and its replay, want 2", left)
		}
		var before, after struct{ Items []orderDoc }
		call(t, "GET", "/v1/orders", nil, b.bearer()...).Expect(t, 200).JSON(t, &before)
		outOfStock(t, call(t, "POST", "/v1/orders", items(hot, 2, other, 1), b.bearer()...), "items[1].sku")
		outOfStock(t, call(t, "POST", "/v1/orders", items(other, 1, hot, 3), b.bearer()...), "items[0].sku", "items[1].sku")
		call(t, "GET", "/v1/orders", nil, b.bearer()...).Expect(t, 200).JSON(t, &after)
		if left := stock(t, staff, hot); left != 2 || len(after.Items) != len(before.Items) {
			t.Fatalf("a refused order wrote: stock %d (want 2), orders %d -> %d", left, len(before.Items), len(after.Items))
		}
	})

	t.Run("50 buyers, 20 units", func(t *testing.T) {
		var next atomic.Int64
		var lowest atomic.Int64
		lowest.Store(20)
		done := make(chan struct{})
		watched := make(chan struct{})
		go func() { // the stock as staff see it while the sale runs
			defer close(watched)
			for {
				select {
				case <-done:
					return
				default:
				}
				// Not call: a goroutine may not end the test.
				req, _ := http.NewRequest("GET", stack.apiURL+"/v1/admin/products/"+flash, nil)
				req.Header.Set("Authorization", "Bearer "+staff.Access)
				var p staffProductDoc
				if resp, err := httpClient.Do(req); err == nil {
					if resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&p) == nil && p.Stock < lowest.Load() {
						lowest.Store(p.Stock)
					}
					resp.Body.Close()
				}
			}
		}()
		answers := race(50, func() *apitest.Response {
			b := buyers[int(next.Add(1)-1)%len(buyers)]
			return call(t, "POST", "/v1/orders", items(flash, 1), b.bearer()...)
		})
		close(done)
		<-watched
		if placed := winners(t, answers, 201, 409); placed != 20 {
			t.Fatalf("%d orders placed of 20 units, want 20", placed)
		}
		for _, r := range answers {
			if r.StatusCode == 409 {
				outOfStock(t, r, "items[0].sku")
			}
		}
		if left := stock(t, staff, flash); left != 0 || lowest.Load() < 0 {
			t.Fatalf("stock %d after the sale (want 0), lowest seen %d", left, lowest.Load())
		}
	})

	t.Run("a price change reaches the orders placed after the copies' refresh", func(t *testing.T) {
		b := buyers[21]
		call(t, "POST", "/v1/admin/products/"+other+"/stock", map[string]any{"delta": 10}, staff.bearer()...).Expect(t, 200)
		var before orderDoc
		call(t, "POST", "/v1/orders", items(other, 1), b.bearer()...).Expect(t, 201).JSON(t, &before)
		var changed staffProductDoc
		call(t, "PATCH", "/v1/admin/products/"+other, map[string]any{"unitPrice": 1500, "name": "Limited, dearer"}, staff.bearer()...).Expect(t, 200).JSON(t, &changed)
		if changed.UnitPrice != 1500 || changed.Currency != "USD" || changed.Stock != 9 {
			t.Fatalf("changed %+v", changed)
		}
		call(t, "PATCH", "/v1/admin/products/"+other, map[string]any{"currency": "EUR"}, staff.bearer()...).Problem(t, 400, "validation")
		time.Sleep(localCatalogFresh + time.Second)
		var after orderDoc
		call(t, "POST", "/v1/orders", items(other, 1), b.bearer()...).Expect(t, 201).JSON(t, &after)
		var again orderDoc
		call(t, "GET", "/v1/orders/"+before.ID, nil, b.bearer()...).Expect(t, 200).JSON(t, &again)
		if again.Items[0].UnitPrice != 1000 || after.Items[0].UnitPrice != 1500 || after.Items[0].Name != "Limited, dearer" {
			t.Fatalf("order before the change priced %d, after the window %d (%q); want 1000, 1500", again.Items[0].UnitPrice, after.Items[0].UnitPrice, after.Items[0].Name)
		}
		var p productDoc
		call(t, "GET", "/v1/products/"+other, nil).Expect(t, 200).JSON(t, &p)
		if p.UnitPrice != 1500 {
			t.Fatalf("customers see price %d after the window, want 1500", p.UnitPrice)
		}
	})

	t.Run("an archived product is gone for customers, not for their orders", func(t *testing.T) {
		b := buyers[22]
		call(t, "POST", "/v1/admin/products/"+hot+"/stock", map[string]any{"delta": 5}, staff.bearer()...).Expect(t, 200)
		var old orderDoc
		call(t, "POST", "/v1/orders", items(hot, 1), b.bearer()...).Expect(t, 201).JSON(t, &old)
		var archived staffProductDoc
		call(t, "PATCH", "/v1/admin/products/"+hot, map[string]any{"active": false}, staff.bearer()...).Expect(t, 200).JSON(t, &archived)
		if archived.Active {
			t.Fatalf("archived %+v", archived)
		}
		time.Sleep(localCatalogFresh + time.Second)
		call(t, "GET", "/v1/products/"+hot, nil).Problem(t, 404, "not-found")
		call(t, "POST", "/v1/orders", items(hot, 1), b.bearer()...).Problem(t, 422, "unknown-product")
		var list struct{ Items []productDoc }
		call(t, "GET", "/v1/products", nil).Expect(t, 200).JSON(t, &list)
		for _, p := range list.Items {
			if p.SKU == hot {
				t.Fatal("the archived product is listed")
			}
		}
		var again orderDoc
		call(t, "GET", "/v1/orders/"+old.ID, nil, b.bearer()...).Expect(t, 200).JSON(t, &again)
		if again.Items[0].SKU != hot || again.Items[0].Name != "Limited "+hot || again.Items[0].UnitPrice != 1000 {
			t.Fatalf("the old order shows %+v", again.Items)
		}
		var all struct{ Items []staffProductDoc }
		call(t, "GET", "/v1/admin/products", nil, staff.bearer()...).Expect(t, 200).JSON(t, &all)
		found := false
		for _, p := range all.Items {
			found = found || p.SKU == hot && !p.Active && p.Stock == 6
		}
		if !found {
			t.Fatalf("staff do not see the archived product with its stock of 6")
		}
	})
}

// TestCustomersAreRefusedTheStaffRoutes: a customer's token gets 403
// forbidden on every staff operation of api/openapi.yaml, and nothing
// changes.
func TestCustomersAreRefusedTheStaffRoutes(t *testing.T) {
	t.Parallel()
	u := signUp(t, "not-staff")
	n := 0
	for _, op := range documentedOperations(t) {
		if !strings.HasPrefix(op.path, "/v1/admin/") {
			continue
		}
		n++
		body := map[string]any{"sku": "COF-ESP-250", "name": "Free", "description": "", "unitPrice": 1, "currency": "USD"}
		if strings.HasSuffix(op.path, "/stock") {
			body = map[string]any{"delta": 1000}
		} else if op.method == "PATCH" {
			body = map[string]any{"unitPrice": 1}
		}
		call(t, op.method, op.example, body, u.bearer()...).Problem(t, 403, "forbidden")
	}
	if n < 5 {
		t.Fatalf("%d staff operations documented, want at least 5", n)
	}
	var p productDoc
	call(t, "GET", "/v1/products/COF-ESP-250", nil).Expect(t, 200).JSON(t, &p)
	if p.UnitPrice == 1 {
		t.Fatal("a customer changed a price")
	}

	// The service checks again, from the token it verifies itself: the
	// orders function, invoked as the gateway would but with an
	// authorizer's decision that says staff, refuses the customer's token
	// and serves a staff member's.
	t.Run("at the service, whatever the gateway decided", func(t *testing.T) {
		staff := staffUser(t)
		fn := stackResources(t, "AWS::Lambda::Function")["OrdersFunction"]
		var placed orderDoc // an order staff can read
		call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), u.bearer()...).Expect(t, 201).JSON(t, &placed)
		for _, op := range documentedOperations(t) {
			op.example = strings.Replace(op.example, missingOrderID, placed.ID, 1)
			if strings.HasPrefix(op.path, "/v1/admin/") && op.method == "GET" {
				if status, body := invokeAsGateway(t, fn, op, u, token.RoleStaff); status != 403 || !strings.Contains(body, "#forbidden") {
					t.Errorf("%s %s, a customer's token with a staff decision: %d %s, want 403 forbidden", op.method, op.example, status, body)
				}
				if status, body := invokeAsGateway(t, fn, op, staff, token.RoleStaff); status != 200 {
					t.Errorf("%s %s, a staff member's token: %d %s, want 200", op.method, op.example, status, body)
				}
			}
		}
	})
}

// invokeAsGateway invokes the function fn with the proxy event the REST
// API would send for op with u's access token (apitest's), after an
// authorizer decision for u that says role, and returns the answer's
// status and body.
func invokeAsGateway(t *testing.T, fn string, op operation, u user, role string) (int, string) {
	t.Helper()
	req := apitest.Request{Route: op.method + " " + op.path, Bearer: u.Access, Headers: map[string]string{"X-Forwarded-For": newAddress()}}
	if strings.Contains(op.path, "{sku}") {
		req.Path = map[string]string{"sku": "COF-ESP-250"}
	}
	if strings.HasSuffix(op.path, "/{id}") {
		req.Path = map[string]string{"id": path.Base(op.example)}
	}
	if op.path == "/v1/admin/orders" { // its one required parameter
		req.Query = map[string]string{"status": "PENDING"}
	}
	ev := req.Event()
	ev.RequestContext.Authorizer = map[string]any{"sub": u.ID, "exp": fmt.Sprint(time.Now().Add(time.Minute).Unix()), "role": role}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewFromConfig(stack.aws).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload})
	if err != nil {
		t.Fatalf("invoke %s: %v", fn, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("invoke %s: %s: %s", fn, *out.FunctionError, out.Payload)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		t.Fatalf("invoke %s: %v: %s", fn, err, out.Payload)
	}
	return resp.StatusCode, resp.Body
}
