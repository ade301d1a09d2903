package contract_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runbookLink is the link an alarm's description gives to its runbook
// entry: "Runbook - docs/operations.md#<anchor>".
var runbookLink = regexp.MustCompile(`Runbook - docs/operations\.md#([a-z0-9-]+)`)

// anchors lists what a link into a Markdown document can point at: its
// explicit <a id="..."> anchors and its headings, as GitHub names them
// (lower case, punctuation dropped, spaces to hyphens).
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(doc, -1) {
		out[m[1]] = true
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	return out
}

// documentedNames are the names by which docs/operations.md's alarm table
// may list an alarm: its own, or the pattern of the alarms repeated per
// function or per table (<Function>ErrorsAlarm, <Table>TableReadThrottleAlarm).
// The functions and tables are those the template's alarm lists repeat
// alarms over (Fn::ForEach::FunctionAlarms, Fn::ForEach::TableThrottleAlarms),
// so a new service's alarms are documented by the patterns already there.
func documentedNames(id string, functions, tables []string) []string {
	names := []string{id}
	names = append(names, strings.NewReplacer("${Function}", "<Function>", "${Table}", "<Table>").Replace(id))
	for _, fn := range functions {
		if rest, ok := strings.CutPrefix(id, fn); ok && strings.HasSuffix(rest, "Alarm") && !strings.HasPrefix(rest, "Table") {
			names = append(names, "<Function>"+rest)
		}
	}
	for _, table := range tables {
		if rest, ok := strings.CutPrefix(id, table+"Table"); ok {
			names = append(names, "<Table>Table"+rest)
		}
	}
	return names
}

// forEachList returns the literal list an Fn::ForEach::<name> resource of
// the template repeats its fragment over ([Users, Orders]).
func forEachList(t *testing.T, name string) []string {
	t.Helper()
	_, byID := resources(t)
	each := byID["Fn::ForEach::"+name]
	if each == nil || each.Kind != yaml.SequenceNode || len(each.Content) != 3 || each.Content[1].Kind != yaml.SequenceNode {
		t.Fatalf("template.yaml has no Fn::ForEach::%s [identifier, [list], fragment]", name)
	}
	return scalars(each.Content[1])
}

// forEachListIs checks that the list of Fn::ForEach::<name> holds exactly
// want (what they are), in any order.
func forEachListIs(t *testing.T, name string, want []string, what string) {
	t.Helper()
	got := slices.Sorted(slices.Values(forEachList(t, name)))
	if want = slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
		t.Errorf("Fn::ForEach::%s lists %v; %s are %v", name, got, what, want)
	}
}

// TestAlarmsHaveRunbookEntries: every alarm is in docs/operations.md's
// alarm table, and every runbook link of an alarm's description leads to
// an entry there. The alarms of SES's sending limits and reputation, of
// the mail circuit and of the dead letters must link one.
func TestAlarmsHaveRunbookEntries(t *testing.T) {
	t.Parallel()
	doc := readFile(t, root, "docs", "operations.md")
	targets := anchors(doc)
	start := strings.Index(doc, "| alarm | metric |")
	if start < 0 {
		t.Fatal("docs/operations.md has no alarm table (| alarm | metric | ...)")
	}
	table, _, _ := strings.Cut(doc[start:], "\n\n")
	linked := map[string]bool{}
	functions, tables := forEachList(t, "FunctionAlarms"), forEachList(t, "TableThrottleAlarms")
	for id, alarm := range alarms(t) {
		names := documentedNames(id, functions, tables)
		if !slices.ContainsFunc(names, func(name string) bool { return strings.Contains(table, "`"+name+"`") }) {
			t.Errorf("%s is not in docs/operations.md's alarm table (as any of %v)", id, names)
		}
		desc := scalar(mapping(mapping(alarm, "Properties"), "AlarmDescription"))
		for _, m := range runbookLink.FindAllStringSubmatch(desc, -1) {
			linked[id] = true
			if !targets[m[1]] {
				t.Errorf("%s links docs/operations.md#%s, which has no such anchor or heading", id, m[1])
			}
		}
	}
	for _, id := range []string{"SesDailyQuotaAlarm", "SesSendRateAlarm", "MailCircuitOpenAlarm", "DeadLetterAlarm", "SesBounceRateAlarm", "SesComplaintRateAlarm"} {
		if !linked[id] {
			t.Errorf("%s has no runbook link in its description", id)
		}
	}
}

// alarmCount counts the alarms the template creates: each alarm resource,
// and each alarm of an Fn::ForEach fragment once per element of its list;
// all of them (on AWS), and those whose Condition holds with
// Environment=local (the local cloud, as capacity reads it).
func alarmCount(t *testing.T) (aws, local int) {
	t.Helper()
	for _, r := range expandedResources(t) {
		if typeOf(r.node) == "AWS::CloudWatch::Alarm" {
			if r.ident != "" && r.over == nil {
				t.Fatalf("%s repeats an alarm over a list this test cannot count (not a literal list)", r.id)
			}
			aws += len(r.values())
		}
	}
	alarms, err := stackTemplate(t, "template.yaml", "serverless-shop-local", "eu-west-1", keyAccount, map[string]string{"Environment": "local"}).Alarms()
	if err != nil {
		t.Fatal(err)
	}
	return aws, len(alarms)
}

// TestAlarmCountIsDocumented: README's and docs/operations.md's cost lines
// count the alarms (each costs $0.10 a month beyond ten free); they must
// say how many the template makes on AWS, and docs/operations.md also how
// many locally.
func TestAlarmCountIsDocumented(t *testing.T) {
	t.Parallel()
	aws, local := alarmCount(t)
	for _, c := range []struct {
		file, where string
		pattern     *regexp.Regexp
		want        int
	}{
		{"README.md", "", regexp.MustCompile(`(\d+)\s+alarms\s+\(\$0\.10`), aws},
		{"docs/operations.md", "", regexp.MustCompile(`\|\s*(\d+) CloudWatch alarms[^|]*\|`), aws},
		{"docs/operations.md", " with Environment=local", regexp.MustCompile(`\|\s*\d+ CloudWatch alarms in prod \((\d+) locally`), local},
	} {
		m := c.pattern.FindStringSubmatch(readFile(t, root, c.file))
		if m == nil {
			t.Errorf("%s: no alarm count found (%s)", c.file, c.pattern)
		} else if got, _ := strconv.Atoi(m[1]); got != c.want {
			t.Errorf("%s counts %d alarms (%s), the template makes %d%s", c.file, got, c.pattern, c.want, c.where)
		}
	}
}

// TestSesReputationAlarmsPauseAccountMail: SES's bounce and complaint
// rates of the account are alarmed well before AWS reviews the account (5 %
// bounces, 0.1 % complaints; it may pause sending at 10 % and 0.5 %, order
// mail included), and their runbook pauses account mail with a switch the
// users function reads: the template's AccountMail (on or paused), passed
// as ACCOUNT_MAIL.
func TestSesReputationAlarmsPauseAccountMail(t *testing.T) {
	t.Parallel()
	all := alarms(t)
	for _, c := range []struct {
		id, metric string
		review     float64
	}{
		{"SesBounceRateAlarm", "Reputation.BounceRate", 0.05},
		{"SesComplaintRateAlarm", "Reputation.ComplaintRate", 0.001},
	} {
		alarm := all[c.id]
		if alarm == nil {
			t.Errorf("template.yaml has no %s", c.id)
			continue
		}
		props := mapping(alarm, "Properties")
		if ns, name := scalar(mapping(props, "Namespace")), scalar(mapping(props, "MetricName")); ns != "AWS/SES" || name != c.metric {
			t.Errorf("%s watches %s %s, want AWS/SES %s", c.id, ns, name, c.metric)
		}
		threshold, err := strconv.ParseFloat(scalar(mapping(props, "Threshold")), 64)
		if err != nil || threshold <= 0 || threshold > c.review/2 {
			t.Errorf("%s fires at %v (%v): want at most half the rate AWS reviews at (%v)", c.id, threshold, err, c.review)
		}
	}
	param := mapping(mapping(template(t), "Parameters"), "AccountMail")
	if got := scalars(mapping(param, "AllowedValues")); strings.Join(got, ",") != "on,paused" || scalar(mapping(param, "Default")) != "on" {
		t.Errorf("parameter AccountMail allows %v, default %q; want on|paused, default on", got, scalar(mapping(param, "Default")))
	}
	_, byID := resources(t)
	env := mapping(mapping(mapping(mapping(byID["UsersFunction"], "Properties"), "Environment"), "Variables"), "ACCOUNT_MAIL")
	if !isRef(env, "!Ref", "AccountMail") {
		t.Error("the users function does not read AccountMail (ACCOUNT_MAIL: !Ref AccountMail)")
	}
	doc := readFile(t, root, "docs", "operations.md")
	if !strings.Contains(doc, "AccountMail=paused") || !anchors(doc)["bounces-and-complaints"] {
		t.Error("docs/operations.md has no runbook (#bounces-and-complaints) that pauses account mail with AccountMail=paused")
	}
}
