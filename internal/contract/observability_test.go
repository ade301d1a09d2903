package contract_test

import (
	"go/ast"
	"go/token"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/shared/metrics"
)

// anyService stands for metrics emitted by shared code on behalf of every
// function (coldstart.Handler's ColdStart).
const anyService = "*"

// emittedMetric is a custom metric some function's code counts.
type emittedMetric struct{ Service, Name string }

// emittedSet is the custom metrics the code counts.
type emittedSet map[emittedMetric]bool

// emittedMetrics finds every custom metric the code counts: the first
// argument of each call X.Add(name, n) whose receiver X is a metrics
// recorder (a field or variable whose name ends in "metrics", the way every
// recorder is named), resolved to its string when it is a literal or a
// constant. The service is the function directory the code is in
// (functions/<service>/...); code in shared/ counts for every service.
func emittedMetrics(t *testing.T) emittedSet {
	t.Helper()
	fset := token.NewFileSet()
	var files []goFile
	consts := map[string]string{} // "<package dir>.<constant>" -> its string value
	for _, f := range goFiles(t, fset, 0, "functions", "shared") {
		if strings.HasSuffix(f.path, "_test.go") {
			continue
		}
		f.path = path.Dir(f.path) // the package's directory
		files = append(files, f)
		for _, decl := range f.ast.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, value := range vs.Values { // none for a constant that repeats the one above
					if lit, ok := value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[f.path+"."+vs.Names[i].Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	out := emittedSet{}
	for _, pf := range files {
		imports := map[string]string{} // local name -> package dir
		for _, imp := range pf.ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			name := filepath.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			imports[name] = strings.TrimPrefix(p, module)
		}
		service := anyService
		if parts := strings.Split(pf.path, "/"); parts[0] == "functions" {
			service = parts[1]
		}
		ast.Inspect(pf.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Add" || !strings.HasSuffix(strings.ToLower(receiverName(sel.X)), "metrics") {
				return true
			}
			var name string
			switch arg := call.Args[0].(type) {
			case *ast.BasicLit:
				name, _ = strconv.Unquote(arg.Value)
			case *ast.Ident:
				name = consts[pf.path+"."+arg.Name]
			case *ast.SelectorExpr:
				if pkg, ok := arg.X.(*ast.Ident); ok {
					name = consts[imports[pkg.Name]+"."+arg.Sel.Name]
				}
			}
			if name == "" {
				t.Errorf("%s: %s.Add with a metric name this test cannot resolve to a string", fset.Position(call.Pos()), receiverName(sel.X))
				return true
			}
			out[emittedMetric{service, name}] = true
			return true
		})
	}
	return out
}

// receiverName is the last name of a receiver expression: "Metrics" for
// s.Metrics, "startMetrics" for startMetrics.
func receiverName(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

func (m emittedSet) has(service, name string) bool {
	return m[emittedMetric{service, name}] || m[emittedMetric{anyService, name}]
}

// alarms returns every AWS::CloudWatch::Alarm of the template by logical id,
// including those an Fn::ForEach fragment repeats (keyed by the fragment's
// id, such as ${Function}ThrottlesAlarm).
func alarms(t *testing.T) map[string]*yaml.Node {
	t.Helper()
	out := map[string]*yaml.Node{}
	for _, r := range expandedResources(t) {
		if typeOf(r.node) == "AWS::CloudWatch::Alarm" {
			out[r.id] = r.node
		}
	}
	if len(out) == 0 {
		t.Fatal("template.yaml has no alarms")
	}
	return out
}

// TestAlarmedMetricsAreEmitted: an alarm on a custom metric that no code
// emits never fires, and nobody notices (a renamed constant is enough); a
// dashboard's graph of one stays empty.
// Every alarm of the namespace ServerlessShop must watch a metric, with the
// service dimension, that the service's code counts. Alarms on AWS/*
// namespaces watch what AWS services publish themselves (Lambda, SQS,
// DynamoDB, API Gateway, AWS/Usage), which no code of ours emits; those
// are excepted, and so is a metric one of the template's metric filters
// makes from a log group (the same namespace and name). Any other
// namespace is an error. An alarm with metric math (Metrics) is held to
// the same rule for each metric its expression reads.
func TestAlarmedMetricsAreEmitted(t *testing.T) {
	t.Parallel()
	emitted := emittedMetrics(t)
	filtered := filterMetrics(t)
	custom := 0
	for id, alarm := range alarms(t) {
		props := mapping(alarm, "Properties")
		watched := []*yaml.Node{props}
		if math := mapping(props, "Metrics"); math != nil {
			watched = nil
			for _, q := range math.Content {
				if stat := mapping(mapping(q, "MetricStat"), "Metric"); stat != nil {
					watched = append(watched, stat)
				}
			}
			if len(watched) == 0 {
				t.Errorf("%s: metric math that reads no metric", id)
			}
		}
		for _, m := range watched {
			ns, name := scalar(mapping(m, "Namespace")), scalar(mapping(m, "MetricName"))
			switch {
			case strings.HasPrefix(ns, "AWS/"):
				continue
			case filtered[ns+" "+name]:
				custom++
				continue
			case ns != metrics.Namespace:
				t.Errorf("%s watches %s in namespace %q: neither %s, nor an AWS service's, nor a metric filter's", id, name, ns, metrics.Namespace)
				continue
			}
			custom++
			service := scalar(dimension(m, "service"))
			if service == "" {
				t.Errorf("%s watches %s without the service dimension every EMF metric has", id, name)
				continue
			}
			if !emitted.has(service, name) {
				t.Errorf("%s watches %s{service=%s}, which no code under functions/%s or shared/ emits", id, name, service, service)
			}
		}
	}
	if custom == 0 {
		t.Error("no alarm watches a custom metric: is the test still reading the template right?")
	}
	// The same for the dashboard's graphs of custom metrics, which would
	// stay empty.
	_, byID := resources(t)
	found := dashboardMetric.FindAllStringSubmatch(dashboardBody(t, byID), -1)
	if len(found) == 0 {
		t.Fatal("the dashboard shows no custom metric")
	}
	for _, m := range found {
		if !emitted.has(m[2], m[1]) {
			t.Errorf("the dashboard graphs %s{service=%s}, which no code emits", m[1], m[2])
		}
	}
}

// dimension is the value of a metric's dimension (nil if it has none of
// that name).
func dimension(metric *yaml.Node, name string) *yaml.Node {
	for _, d := range seq(mapping(metric, "Dimensions")) {
		if scalar(mapping(d, "Name")) == name {
			return mapping(d, "Value")
		}
	}
	return nil
}

// filterMetrics returns the metrics the template's metric filters
// (AWS::Logs::MetricFilter) make, as "namespace name" with the namespace
// as written (a !Sub's text).
func filterMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range ofType(t, "AWS::Logs::MetricFilter") {
		for _, m := range mapping(mapping(r, "Properties"), "MetricTransformations").Content {
			out[scalar(mapping(m, "MetricNamespace"))+" "+scalar(mapping(m, "MetricName"))] = true
		}
	}
	return out
}

// dashboardMetric matches a custom metric of a dashboard widget:
// ["ServerlessShop", "<name>", "service", "<service>"...
var dashboardMetric = regexp.MustCompile(`\["` + metrics.Namespace + `",\s*"(\w+)",\s*"service",\s*"(\w+)"`)
