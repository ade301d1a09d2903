package contract_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/serverless-shop/backend/functions/notifications/pace"
	"github.com/serverless-shop/backend/internal/capacity"
)

// mailSettings is the SES sending rate and the notification concurrency
// one environment deploys with.
type mailSettings struct{ rate, concurrency string }

// samconfigOverrides reads the parameter_overrides of every environment
// samconfig.toml deploys ([<env>.deploy.parameters]), as SAM CLI merges
// its tables (capacity.ReadEnvironment).
func samconfigOverrides(t *testing.T) map[string]map[string]string {
	t.Helper()
	path := filepath.Join(root, "samconfig.toml")
	out := map[string]map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\[([a-z]+)\.deploy\.parameters\]$`).FindAllStringSubmatch(readFile(t, path), -1) {
		e, err := capacity.ReadEnvironment(path, m[1])
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = e.Overrides
	}
	if len(out) == 0 {
		t.Fatal("samconfig.toml has no deploy tables")
	}
	return out
}

// TestNotificationConcurrencyIsDerivedFromTheRate: CloudFormation cannot
// compute the notification concurrency from SesMaxSendRate, so it is a
// parameter of its own that every environment must set to the derived
// value, pace.Concurrency(rate), or leave both at their defaults: the
// template's defaults, each samconfig.toml environment and the local
// deploy. The template hands both to the function and the concurrency to
// the event source mapping, which is what the pacing assumes.
func TestNotificationConcurrencyIsDerivedFromTheRate(t *testing.T) {
	t.Parallel()
	params := mapping(template(t), "Parameters")
	defaults := mailSettings{
		rate:        scalar(mapping(mapping(params, "SesMaxSendRate"), "Default")),
		concurrency: scalar(mapping(mapping(params, "NotificationConcurrency"), "Default")),
	}
	if defaults.rate == "" || defaults.concurrency == "" {
		t.Fatal("template.yaml lacks a default SesMaxSendRate or NotificationConcurrency")
	}
	if got := scalar(mapping(mapping(params, "SesMaxSendRate"), "MinValue")); got != strconv.Itoa(pace.MinConcurrency) {
		t.Errorf("SesMaxSendRate MinValue %q, want %d: below it an environment gets no whole send a second", got, pace.MinConcurrency)
	}
	envs := map[string]mailSettings{"template defaults": defaults}
	for env, o := range samconfigOverrides(t) {
		s := defaults
		if v, ok := o["SesMaxSendRate"]; ok {
			s.rate = v
		}
		if v, ok := o["NotificationConcurrency"]; ok {
			s.concurrency = v
		}
		envs["samconfig.toml "+env] = s
	}
	deploy := readFile(t, root, "localstack", "params.sh")
	local := mailSettings{}
	for name, dst := range map[string]*string{"SesMaxSendRate": &local.rate, "NotificationConcurrency": &local.concurrency} {
		// On the line that sets it (p+="..."), not in the comment above.
		m := regexp.MustCompile(`(?m)^\s*p\+?="[^"\n]*\b` + name + `=(\d+)\b`).FindStringSubmatch(deploy)
		if m == nil {
			t.Errorf("localstack/params.sh sets no %s=<number>", name)
			continue
		}
		*dst = m[1]
	}
	envs["localstack/params.sh"] = local

	for _, env := range keys(envs) {
		s := envs[env]
		rate, err1 := strconv.Atoi(s.rate)
		concurrency, err2 := strconv.Atoi(s.concurrency)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: SesMaxSendRate %q and NotificationConcurrency %q must be whole numbers", env, s.rate, s.concurrency)
			continue
		}
		if want := pace.Concurrency(rate); concurrency != want {
			t.Errorf("%s: NotificationConcurrency %d for SesMaxSendRate %d, want %d (the fewest environments, at least %d, that divide it into shares of at most %d)",
				env, concurrency, rate, want, pace.MinConcurrency, pace.PerEnvironment)
		}
		if share, err := pace.Share(rate, concurrency); err != nil {
			t.Errorf("%s: %v", env, err)
		} else {
			t.Logf("%s: SesMaxSendRate %d over %d environments, %d a second each", env, rate, concurrency, share)
		}
	}

	_, byID := resources(t)
	fn := mapping(byID["NotificationsFunction"], "Properties")
	vars := mapping(mapping(fn, "Environment"), "Variables")
	for name, param := range map[string]string{"MAIL_MAX_SEND_RATE": "SesMaxSendRate", "MAIL_CONCURRENCY": "NotificationConcurrency"} {
		if v := mapping(vars, name); v == nil || v.Tag != "!Ref" || v.Value != param {
			t.Errorf("NotificationsFunction %s is not !Ref %s", name, param)
		}
	}
	scaling := mapping(mapping(mapping(mapping(mapping(fn, "Events"), "OrderEvents"), "Properties"), "ScalingConfig"), "MaximumConcurrency")
	if scaling == nil || scaling.Tag != "!Ref" || scaling.Value != "NotificationConcurrency" {
		t.Error("the events queue's MaximumConcurrency is not !Ref NotificationConcurrency: the pacing shares the rate by it")
	}
}
