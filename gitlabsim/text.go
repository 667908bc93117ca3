package gitlabsim

import (
	"strconv"
	"strings"
	"time"
)

const (
	rootGroupPath = "acme"
	externalURL   = "https://gitlab.example.com" // GitLab's external_url: web_url fields use it
)

var groupNames = []string{"platform", "backend", "data", "frontend", "infra", "ml", "analytics", "mobile",
	"security", "payments", "search", "identity", "billing", "growth", "tools", "qa", "observability",
	"storage", "network", "design", "docs", "support", "research", "edge"}

var projectNames = []string{"web", "api", "worker", "cli", "docs", "gateway", "scheduler", "sdk", "dashboard",
	"ingest", "exporter", "auth", "notifier", "runner", "pipeline", "terraform", "charts", "mobile-app",
	"search-indexer", "billing-service"}

var firstNames = []string{"Alice", "Bob", "Carla", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jun",
	"Kwame", "Lucía", "Mateo", "Nadia", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
	"Wen", "Xavier", "Yara", "Zoë"}

var lastNames = []string{"Anders", "Brown", "Chen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ito",
	"Jensen", "Kowalski", "Lee", "Müller", "Novak", "O'Brien", "Patel", "Quispe", "Rossi", "Singh", "Tanaka"}

var verbs = []string{"Fix", "Add", "Remove", "Refactor", "Document", "Speed up", "Investigate", "Migrate",
	"Harden", "Simplify", "Test", "Deprecate"}

var subjects = []string{"login timeout", "flaky CI job", "CSV export", "rate limiter", "search index",
	"webhook retries", "dark mode", "audit log", "API pagination", "cache eviction", "billing report",
	"password reset", "upload size limit", "notification emails", "dependency updates", "memory leak"}

var places = []string{"in the dashboard", "for large groups", "on mobile", "behind the proxy", "in the worker",
	"for admins", "in the API", "during deploys", "for archived projects", "with SSO"}

var groupLabelNames = []string{"bug", "feature", "documentation", "security", "performance", "tech-debt",
	"ux", "priority::high", "priority::low", "good first issue"}

var projectLabelNames = []string{"backend", "frontend", "needs-review", "regression", "database", "ci",
	"blocked", "customer", "infra", "accessibility"}

var labelColors = []string{"#d9534f", "#5cb85c", "#428bca", "#f0ad4e", "#8e44ad", "#34495e", "#009966",
	"#ff0000", "#6699cc", "#e6e6fa"}

var jobNames = []struct{ stage, name string }{{"build", "compile"}, {"test", "unit-tests"}, {"test", "lint"},
	{"test", "integration"}, {"deploy", "deploy-staging"}, {"deploy", "deploy-production"}, {"build", "docker-image"}}

var noteBodies = []string{"Looks good to me.", "Can you add a test for this?", "I can reproduce this on main.",
	"Thanks! Merging once CI is green.", "See the logs:\n```\nERROR: connection reset\n```",
	"This is blocked by the \"database\" migration — ping @alice.", "Works for me ✓", "Duplicate of an older issue?"}

var systemNoteBodies = []string{"changed the description", "added ~bug label", "assigned to @alice.anders",
	"mentioned in commit 1a2b3c4d", "changed milestone to %v1.0", "marked the task **Write docs** as completed",
	"closed", "reopened"}

func pick(list []string, n int64) string {
	if n < 0 {
		n = -n
	}
	return list[n%int64(len(list))]
}

// mix is a small deterministic hash of an id, for choosing texts.
func mix(id int64) int64 {
	x := uint64(id)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E5
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	return int64(x >> 1)
}

func itemTitle(id int64, rev uint16) string {
	h := mix(id)
	t := pick(verbs, h) + " " + pick(subjects, h>>8) + " " + pick(places, h>>16)
	if rev > 0 {
		t += " (edit " + strconv.Itoa(int(rev)) + ")"
	}
	return t
}

func itemDescription(kind string, id int64, rev uint16) string {
	h := mix(id + 7)
	var b strings.Builder
	b.WriteString("Synthetic ")
	b.WriteString(kind)
	b.WriteString(" ")
	b.WriteString(strconv.FormatInt(id, 10))
	b.WriteString(".\n\n## Steps\n1. Open \"")
	b.WriteString(pick(subjects, h))
	b.WriteString("\"\n2. Watch it fail — ")
	b.WriteString(pick(places, h>>8))
	b.WriteString(" <b>not</b> escaped & unicode ✓\n\n- [x] reproduce\n- [ ] fix")
	if rev > 0 {
		b.WriteString("\n\nEdited ")
		b.WriteString(strconv.Itoa(int(rev)))
		b.WriteString(" time(s).")
	}
	return b.String()
}

func noteBody(id int64, system bool) string {
	if system {
		return pick(systemNoteBodies, mix(id))
	}
	return pick(noteBodies, mix(id))
}

func revSuffix(r *row) string {
	if r.rev == 0 {
		return ""
	}
	return " (edit " + strconv.Itoa(int(r.rev)) + ")"
}

func shortSHA(id int64) string { return fullSHA(id)[:8] }

func fullSHA(id int64) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 40)
	var x uint64
	for i := range b {
		if i%15 == 0 {
			x = uint64(mix(id*64 + int64(i)))
		}
		b[i] = hexd[x&15]
		x >>= 4
	}
	return string(b)
}

// slug turns a name into a URL path segment.
func slug(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), " ", "-")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const (
	msPerDay    = int64(24 * time.Hour / time.Millisecond)
	msPerMinute = int64(time.Minute / time.Millisecond)
	msPerHour   = int64(time.Hour / time.Millisecond)
	timeLayout  = "2006-01-02T15:04:05.000Z"
	zoneLayout  = "2006-01-02T15:04:05.000-07:00"
)

// ts renders a time as GitLab's API does, in the instance's time zone
// (Options.TimeZone; config/initializers/time_zone.rb): ActiveSupport
// renders a TimeWithZone with milliseconds and "Z" in UTC, its offset
// ("+02:00", "+00:00") in any other zone.
func (st *store) ts(ms int64) string {
	if st.zone == nil || st.zone == time.UTC {
		return time.UnixMilli(ms).UTC().Format(timeLayout)
	}
	return time.UnixMilli(ms).In(st.zone).Format(zoneLayout)
}

// tsp is ts, or null for 0.
func (st *store) tsp(ms int64) any {
	if ms == 0 {
		return nil
	}
	return st.ts(ms)
}

// userZones are the time zones of users' git clients, in minutes east of
// UTC: a commit's dates carry its author's and committer's offsets.
var userZones = []int{0, 60, 120, -300, 330, -480, 540, 60, -180, 0, 180, -240}

// gitTime renders a git date of user u as GitLab does: with the offset git
// recorded (Gitlab::Git::Commit#init_date_from_gitaly: Time.strptime with
// %z), so "+00:00", never "Z", whatever the instance's zone.
func gitTime(ms int64, u int32) string {
	off := userZones[int(u)%len(userZones)]
	return time.UnixMilli(ms).In(time.FixedZone("", off*60)).Format(zoneLayout)
}

// datep is the date of ms (YYYY-MM-DD), or null for 0.
func datep(ms int64) any {
	if ms == 0 {
		return nil
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02")
}
