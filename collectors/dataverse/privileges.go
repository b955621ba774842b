package dataverse

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// The privileges read (fleet facts §2b) in two halves. The first $batch
// finds the pinning privileges by name, the enabled users (counted on the
// server) and the user and team role links; the follow-up reads the names
// of the roles those links hold, which of the privileges each grants
// (roleprivilegescollection, filtered on both ids), and the members of the
// teams holding roles. The section keeps a user count per role, never user
// lists; each link read is one page of at most 5,000 rows, and a read with
// more to follow is named in Truncated.

// privilegeRead is the state the follow-up needs from the first $batch.
type privilegeRead struct {
	followUp
	source string // the privileges request: the section's source
	status int
	found  []snapshot.Privilege
	// holders maps each checked role to the enabled users holding it
	// directly; teamRoles the checked teams to the roles they hold.
	holders   map[string]map[string]bool
	teamRoles map[string][]string
	enabled   map[string]bool
	truncated []string
}

type privilegeRow struct {
	PrivilegeID string `json:"privilegeid"`
	Name        string `json:"name"`
}

type linkRow struct {
	SystemUserID string `json:"systemuserid"`
	TeamID       string `json:"teamid"`
	RoleID       string `json:"roleid"`
	PrivilegeID  string `json:"privilegeid"`
}

func emptyRolePrivileges() *snapshot.RolePrivileges {
	return &snapshot.RolePrivileges{Privileges: []snapshot.Privilege{}, Roles: []snapshot.HeldRole{}, Truncated: []string{}}
}

// readPage decodes one page of a collection whose rows are rec, and says
// whether more rows followed it.
func readPage[T any](r odata.BatchResponse, rec collectors.Record) ([]T, bool, error) {
	var page collectors.Collection
	if err := r.DecodeJSON(&page); err != nil {
		return nil, false, err
	}
	rows, err := page.Rows(rec)
	if err != nil {
		return nil, false, err
	}
	out, err := collectors.Unmarshal[T](rows, rec)
	return out, page.NextLink != "", err
}

// startPrivileges reads the first half from resps (privileges, enabled
// users, user roles, team roles) and returns what the follow-up must read;
// none when the section is decided already (an error, or nothing to check).
func (c *Collector) startPrivileges(e *snapshot.Environment, resps []odata.BatchResponse, sources []string, now time.Time) *privilegeRead {
	e.RolePrivileges = emptyRolePrivileges()
	rp := e.RolePrivileges
	p := &privilegeRead{source: sources[0], status: resps[0].Status}
	fail := func(i int, err error) *privilegeRead {
		rp.Section = collectors.Failed(sources[i], err, now)
		return &privilegeRead{}
	}

	privs, err := collectors.DecodeAll[privilegeRow](resps[0], PrivilegeRecord)
	if err != nil {
		return fail(0, err)
	}
	for _, name := range PinPrivileges {
		for _, row := range privs {
			if strings.EqualFold(row.Name, name) {
				p.found = append(p.found, snapshot.Privilege{PrivilegeID: strings.ToLower(row.PrivilegeID), Name: name})
				break
			}
		}
	}

	var users countedPage
	err = resps[1].DecodeJSON(&users)
	var userRows []json.RawMessage
	if err == nil {
		userRows, err = users.Rows(EnabledUserRecord)
	}
	if err == nil {
		rp.EnabledUserCount, rp.EnabledUserCountLimitExceeded, err = users.count()
	}
	var enabled []linkRow
	if err == nil {
		enabled, err = collectors.Unmarshal[linkRow](userRows, EnabledUserRecord)
	}
	if err != nil {
		return fail(1, err)
	}
	if users.NextLink != "" {
		p.truncate("systemusers")
	}
	p.enabled = map[string]bool{}
	for _, u := range enabled {
		p.enabled[strings.ToLower(u.SystemUserID)] = true
	}

	userRoles, more, err := readPage[linkRow](resps[2], UserRoleRecord)
	if err != nil {
		return fail(2, err)
	}
	if more {
		p.truncate("systemuserrolescollection")
	}
	teamRoles, more, err := readPage[linkRow](resps[3], TeamRoleLinkRecord)
	if err != nil {
		return fail(3, err)
	}
	if more {
		p.truncate("teamrolescollection")
	}

	// The roles to check: those enabled users hold directly, most held
	// first, then those teams hold.
	direct := map[string]map[string]bool{}
	for _, l := range userRoles {
		user, role := strings.ToLower(l.SystemUserID), strings.ToLower(l.RoleID)
		if !p.enabled[user] {
			continue
		}
		if direct[role] == nil {
			direct[role] = map[string]bool{}
		}
		direct[role][user] = true
	}
	byTeam := map[string][]string{}
	for _, l := range teamRoles {
		team, role := strings.ToLower(l.TeamID), strings.ToLower(l.RoleID)
		if !slices.Contains(byTeam[team], role) {
			byTeam[team] = append(byTeam[team], role)
		}
	}
	roles := make([]string, 0, len(direct))
	for role := range direct {
		roles = append(roles, role)
	}
	slices.SortFunc(roles, func(a, b string) int { return cmp.Or(cmp.Compare(len(direct[b]), len(direct[a])), cmp.Compare(a, b)) })
	teams := make([]string, 0, len(byTeam))
	for team := range byTeam {
		teams = append(teams, team)
	}
	slices.Sort(teams)
	if len(teams) > MaxRoleTeams {
		teams = teams[:MaxRoleTeams]
		p.truncate("teams")
	}
	for _, team := range teams {
		for _, role := range byTeam[team] {
			if !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
	}
	if len(roles) > MaxHeldRoles {
		roles = roles[:MaxHeldRoles]
		p.truncate("roles")
	}

	p.holders, p.teamRoles = map[string]map[string]bool{}, map[string][]string{}
	for _, role := range roles {
		p.holders[role] = map[string]bool{}
		for user := range direct[role] {
			p.holders[role][user] = true
		}
	}
	for _, team := range teams {
		p.teamRoles[team] = byTeam[team]
	}
	rp.Privileges = append(rp.Privileges, p.found...)
	if len(p.found) == 0 || len(roles) == 0 {
		// Nothing to look up: no privilege by these names, or no role held.
		rp.Truncated = append(rp.Truncated, p.truncated...)
		rp.Section = collectors.OK(p.source, p.status, now)
		return &privilegeRead{}
	}

	roleIDs, privilegeIDs := make([]string, len(roles)), make([]string, len(p.found))
	copy(roleIDs, roles)
	for i, f := range p.found {
		privilegeIDs[i] = f.PrivilegeID
	}
	paths := []string{
		"roles?$select=" + roleColumns + "&$filter=" + orFilter("roleid", roleIDs),
		"roleprivilegescollection?$select=roleid,privilegeid&$filter=(" + orFilter("roleid", roleIDs) + ") and (" + orFilter("privilegeid", privilegeIDs) + ")",
	}
	if len(teams) > 0 {
		paths = append(paths, "teammemberships?$select=systemuserid,teamid&$filter="+orFilter("teamid", teams))
	}
	p.followUp = c.followUp(paths...)
	return p
}

func (p *privilegeRead) truncate(read string) {
	if !slices.Contains(p.truncated, read) {
		p.truncated = append(p.truncated, read)
	}
}

// finish reads the follow-up answers: the held roles' names, their
// privileges and the teams' members, and fills the section.
func (p *privilegeRead) finish(e *snapshot.Environment, resps []odata.BatchResponse, now time.Time) {
	rp := e.RolePrivileges
	fail := func(i int, err error) {
		*rp = *emptyRolePrivileges()
		rp.Section = collectors.Failed(p.sources[i], err, now)
	}
	roles, more, err := readPage[roleRow](resps[0], HeldRoleRecord)
	if err != nil {
		fail(0, err)
		return
	}
	if more {
		p.truncate("roles")
	}
	grants, more, err := readPage[linkRow](resps[1], RolePrivilegeRecord)
	if err != nil {
		fail(1, err)
		return
	}
	if more {
		p.truncate("roleprivilegescollection")
	}
	if len(resps) > 2 {
		members, more, err := readPage[linkRow](resps[2], TeamMemberRecord)
		if err != nil {
			fail(2, err)
			return
		}
		if more {
			p.truncate("teammemberships")
		}
		for _, m := range members {
			user, team := strings.ToLower(m.SystemUserID), strings.ToLower(m.TeamID)
			if !p.enabled[user] {
				continue
			}
			for _, role := range p.teamRoles[team] {
				if p.holders[role] != nil {
					p.holders[role][user] = true
				}
			}
		}
	}

	names := map[string]string{}
	for _, f := range p.found {
		names[f.PrivilegeID] = f.Name
	}
	granted := map[string]map[string]bool{}
	for _, g := range grants {
		role, name := strings.ToLower(g.RoleID), names[strings.ToLower(g.PrivilegeID)]
		if name == "" {
			continue
		}
		if granted[role] == nil {
			granted[role] = map[string]bool{}
		}
		granted[role][name] = true
	}
	for _, r := range roles {
		id := strings.ToLower(r.RoleID)
		users := len(p.holders[id])
		if users == 0 {
			continue // held only by disabled users, or through teams without enabled members
		}
		held := snapshot.HeldRole{RoleID: id, Name: r.Name, UserCount: users, Privileges: []string{}}
		if r.RoleTemplateID != nil {
			held.RoleTemplateID = strings.ToLower(*r.RoleTemplateID)
		}
		for _, f := range p.found {
			if granted[id][f.Name] {
				held.Privileges = append(held.Privileges, f.Name)
			}
		}
		rp.Roles = append(rp.Roles, held)
	}
	slices.SortFunc(rp.Roles, func(a, b snapshot.HeldRole) int {
		return cmp.Or(cmp.Compare(b.UserCount, a.UserCount), cmp.Compare(a.Name, b.Name), cmp.Compare(a.RoleID, b.RoleID))
	})
	rp.Truncated = append(rp.Truncated, p.truncated...)
	rp.Section = collectors.OK(p.source, p.status, now)
}
