package budgets

import "testing"

// TestAllRefusesAnUnknownField: a misspelt figure in budgets.yaml stops
// every reader of the table, rather than reading as a budget of zero.
func TestAllRefusesAnUnknownField(t *testing.T) {
	defer func(saved []byte) {
		table = saved
		if recover() == nil {
			t.Error("a table with an unknown field was read")
		}
	}(table)
	table = []byte(`[{request: "GET /v1/health", wcus: 2}]`)
	All()
}
