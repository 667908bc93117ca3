package gitlabsim

// Users as GitLab's API embeds them.

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

func (st *store) userFields(o *obj, u int32) *obj {
	j := st.userJSON(u)
	return o.f("id", j.ID).f("username", j.Username).f("name", j.Name).f("state", j.State).f("locked", j.Locked).
		f("avatar_url", j.AvatarURL).f("web_url", j.WebURL)
}
