package gitlabsim

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// Shared pieces of the JSON shapes, modelled on GitLab's API entities.

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("gitlabsim: marshal: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// xsim is the extra field that real GitLab does not have, so that tests can
// prove that unknown fields survive.
func xsim(seq int) json.RawMessage {
	return json.RawMessage(`{"seq":` + strconv.Itoa(seq) + `,"nested":[1,{"k":"v"}]}`)
}

type userJSON struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Locked    bool   `json:"locked"`
	AvatarURL string `json:"avatar_url"`
	WebURL    string `json:"web_url"`
}

func (st *store) userJSON(u int32) userJSON {
	us := &st.users[u]
	return userJSON{ID: us.id, Username: us.username, Name: us.name, State: "active",
		AvatarURL: "https://www.gravatar.com/avatar/" + fullSHA(us.id)[:32] + "?s=80&d=identicon",
		WebURL:    externalURL + "/" + us.username}
}

// userp is the user, or null for -1.
func (st *store) userp(u int32) any {
	if u < 0 {
		return nil
	}
	return st.userJSON(u)
}

func (st *store) usersJSON(us []int32) []userJSON {
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, st.userJSON(u))
	}
	return out
}

func (st *store) labelNames(ls []int32) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, st.labels[l].name)
	}
	sort.Strings(out)
	return out
}

type timeStats struct {
	TimeEstimate        int `json:"time_estimate"`
	TotalTimeSpent      int `json:"total_time_spent"`
	HumanTimeEstimate   any `json:"human_time_estimate"`
	HumanTotalTimeSpent any `json:"human_total_time_spent"`
}

func makeTimeStats(id int64) timeStats {
	h := mix(id + 3)
	if h%3 != 0 {
		return timeStats{}
	}
	est := int(h%8+1) * 3600
	spent := int(h>>8%(int64(est)/1800+1)) * 1800
	ts := timeStats{TimeEstimate: est, TotalTimeSpent: spent, HumanTimeEstimate: strconv.Itoa(est/3600) + "h"}
	if spent > 0 {
		ts.HumanTotalTimeSpent = strconv.Itoa(spent/3600) + "h" + map[bool]string{true: " 30m", false: ""}[spent%3600 != 0]
	}
	return ts
}

type taskCompletion struct {
	Count          int `json:"count"`
	CompletedCount int `json:"completed_count"`
}

type references struct {
	Short    string `json:"short"`
	Relative string `json:"relative"`
	Full     string `json:"full"`
}

// milestoneJSON is the milestone entity, as listed and as embedded in issues
// and merge requests (without x_sim there).
type milestoneJSON struct {
	ID          int64           `json:"id"`
	IID         int32           `json:"iid"`
	GroupID     *int64          `json:"group_id,omitempty"`
	ProjectID   *int64          `json:"project_id,omitempty"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	State       string          `json:"state"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
	DueDate     any             `json:"due_date"`
	StartDate   any             `json:"start_date"`
	Expired     bool            `json:"expired"`
	WebURL      string          `json:"web_url"`
	XSim        json.RawMessage `json:"x_sim,omitempty"`
}

func (st *store) milestoneJSON(m int32, withX bool) milestoneJSON {
	ms := &st.milestones[m]
	out := milestoneJSON{ID: ms.id, IID: ms.iid, State: "active", CreatedAt: ts(ms.created), UpdatedAt: ts(ms.updated),
		DueDate: datep(ms.due), StartDate: datep(ms.start), Expired: ms.due != 0 && ms.due < st.hi}
	if ms.closed {
		out.State = "closed"
	}
	if ms.project >= 0 {
		p := &st.projects[ms.project]
		out.ProjectID = &p.id
		out.Title = "v1." + strconv.Itoa(int(ms.iid)-1)
		out.WebURL = externalURL + "/" + p.fullPath + "/-/milestones/" + strconv.Itoa(int(ms.iid))
	} else {
		g := &st.groups[ms.group]
		out.GroupID = &g.id
		out.Title = "Release " + strconv.Itoa(int(ms.iid)) + ".0"
		out.WebURL = externalURL + "/groups/" + g.fullPath + "/-/milestones/" + strconv.Itoa(int(ms.iid))
	}
	out.Description = "Everything planned for " + out.Title + "."
	if ms.rev > 0 {
		out.Title += " (edit " + strconv.Itoa(int(ms.rev)) + ")"
		out.Description += " Rescheduled."
	}
	if withX {
		out.XSim = xsim(int(m) + 1)
	}
	return out
}

func (st *store) milestonep(m int32) any {
	if m < 0 {
		return nil
	}
	return st.milestoneJSON(m, false)
}
