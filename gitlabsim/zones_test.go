package gitlabsim

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTimesCarryTheInstancesZone(t *testing.T) {
	zone := time.FixedZone("", 2*3600)
	s := start(t, Options{TimeZone: zone}).freeze()
	is := s.one("/api/v4/projects/1000/issues?iids[]=1")
	for _, f := range []string{"created_at", "updated_at"} {
		v := is[f].(string)
		if !strings.HasSuffix(v, "+02:00") || len(v) != len("2024-03-05T14:00:00.000+02:00") {
			t.Errorf("issue %s = %q, want ...+02:00", f, v)
		}
	}
	// Commits keep their own offsets.
	for _, c := range objects(t, s.all("/api/v4/projects/1000/repository/commits?per_page=5")) {
		if strings.HasSuffix(c["committed_date"].(string), "Z") {
			t.Errorf("commit date %v in UTC form", c["committed_date"])
		}
	}
	// A time parameter is an instant: Z, an offset, and zone-less (UTC)
	// name the same one.
	u, _ := time.Parse(time.RFC3339, is["updated_at"].(string))
	count := func(v string) int {
		return len(s.all("/api/v4/groups/acme/issues?non_archived=false&updated_after=" + url.QueryEscape(v)))
	}
	z := count(u.UTC().Format(time.RFC3339Nano))
	if z == 0 || count(u.In(zone).Format(time.RFC3339Nano)) != z || count(u.UTC().Format("2006-01-02T15:04:05.000")) != z {
		t.Errorf("updated_after in UTC, +02:00 and zone-less: %d, %d, %d", z, count(u.In(zone).Format(time.RFC3339Nano)),
			count(u.UTC().Format("2006-01-02T15:04:05.000")))
	}
	// Expected renders the same.
	found := false
	for _, o := range objects(t, s.Expected()["issues"]) {
		if o["id"] == is["id"] {
			found = o["updated_at"] == is["updated_at"]
		}
	}
	if !found {
		t.Error("Expected renders the issue's times otherwise")
	}
	// The events' date bounds are the zone's days.
	s.Advance(0)
	for _, e := range objects(t, s.all("/api/v4/projects/1000/events?sort=asc&after=2020-01-01")) {
		if !strings.HasSuffix(e["created_at"].(string), "+02:00") {
			t.Fatalf("event created_at %v", e["created_at"])
		}
	}
	utc := start(t, Options{})
	if v := utc.one("/api/v4/projects/1000/issues?iids[]=1")["created_at"].(string); !strings.HasSuffix(v, "Z") {
		t.Errorf("a UTC instance renders %q", v)
	}
}
