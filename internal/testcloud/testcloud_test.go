//go:build integration

package testcloud

import (
	"errors"
	"strconv"
	"testing"
)

func TestEnvAndParallel(t *testing.T) {
	t.Setenv("TESTCLOUD_SETTING", "7")
	if got := Env(t, "TESTCLOUD_SETTING", 1, strconv.Atoi); got != 7 {
		t.Errorf("Env of a set variable = %d, want 7", got)
	}
	if got := Env(t, "TESTCLOUD_UNSET_SETTING", 1, strconv.Atoi); got != 1 {
		t.Errorf("Env of an unset variable = %d, want the default 1", got)
	}
	errs := Parallel(3, func(i int) error { return errors.New(strconv.Itoa(i)) })
	for i, err := range errs {
		if err == nil || err.Error() != strconv.Itoa(i) {
			t.Errorf("Parallel's error %d = %v, want %d", i, err, i)
		}
	}
}
