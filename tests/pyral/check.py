"""Drives Rally's official Python toolkit (pyral 1.7.0) against rally-sim over HTTPS.

Run by tests/pyral/run.sh inside a venv that has pyral installed:

    python check.py --sim target/debug/rally-sim

Starts the simulator with --tls (it makes a throwaway CA; requests is pointed at it through
REQUESTS_CA_BUNDLE, so pyral runs with certificate verification on), connects the way pyral's
users do, and exercises connect, queries, paging past 2,000 items, create/update/delete of
the four work item types, tags, discussion posts, allowed values and the current user. Prints
one line per check and closes with "N passed, N failed".
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import traceback

EXTRA_STORIES = 2500
OWNER = "alex.morgan@acme.example"
OTHER = "priya.shah@acme.example"


def start_sim(binary):
    key = "_pyral" + secrets.token_hex(12)
    args = [binary, "--port", "0", "--seed", "113", "--api-key", key, "--tls",
            "--extra-stories", str(EXTRA_STORIES), "--max-seconds", "900"]
    # stdin stays a pipe: the simulator exits when this process goes away.
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("rally-sim did not start")
    info = json.loads(line)
    return proc, info, key


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn):
        try:
            detail = fn()
        except Exception:
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
            return None
        self.passed += 1
        print(f"ok   {name}" + (f": {detail}" if detail else ""))
        return detail


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True, help="path to the rally-sim binary")
    opts = ap.parse_args()

    proc, info, key = start_sim(opts.sim)
    # requests (under pyral) verifies against this CA: verification stays on.
    os.environ["REQUESTS_CA_BUNDLE"] = info["caFile"]
    os.environ.pop("HTTPS_PROXY", None)
    os.environ.pop("https_proxy", None)
    server = info["url"].removeprefix("https://")

    import pyral
    from pyral import Rally

    c = Checks()
    state = {}
    print(f"pyral {'.'.join(map(str, pyral.__version__))} against rally-sim at {info['url']} (TLS, verified)")

    def connect():
        rally = Rally(server, apikey=key, workspace="Acme Store", project="Online Store",
                      verify_ssl_cert=True, warn=False)
        state["rally"] = rally
        ws, proj = rally.getWorkspace(), rally.getProject()
        expect(ws.Name == "Acme Store", ws.Name)
        expect(proj.Name == "Online Store", proj.Name)
        expect(rally.subscriptionName() == "Acme Retail", rally.subscriptionName())
        return f"workspace {ws.Name}, project {proj.Name}, subscription {rally.subscriptionName()}"

    c.run("connect with workspace and project (User, UserProfile, Subscription, Workspaces, schema)", connect)
    rally = state.get("rally")
    if rally is None:
        print(f"{c.passed} passed, {c.failed} failed")
        return 1

    def connect_defaults():
        r2 = Rally(server, apikey=key, verify_ssl_cert=True, warn=False)
        expect(r2.getWorkspace().Name == "Acme Store", r2.getWorkspace().Name)
        expect(r2.getProject().Name == "Online Store", r2.getProject().Name)
        names = sorted(p.Name for p in r2.getProjects())
        expect(names == ["Checkout Team", "Online Store", "Search Team"], names)
        return f"defaults from the UserProfile; projects {names}"

    c.run("connect without workspace/project (UserProfile defaults)", connect_defaults)

    def current_user():
        me = rally.get("User", fetch="UserName,DisplayName,UserProfile", instance=True)
        expect(me.UserName == OWNER, me.UserName)
        profile = me.UserProfile
        expect(profile.DefaultWorkspace.Name == "Acme Store", profile.DefaultWorkspace.Name)
        expect(profile.DefaultProject.Name == "Online Store", profile.DefaultProject.Name)
        found = rally.getUserInfo(username=OTHER)
        expect(len(found) == 1 and found[0].UserName == OTHER, [u.UserName for u in found])
        by_oid = rally.getUserInfo(oid=me.oid)
        expect(by_oid.UserName == OWNER, by_oid.UserName)
        nobody = rally.getUserInfo(username="nobody@acme.example")
        expect(not nobody, nobody)
        return f"{me.DisplayName}; getUserInfo(username={OTHER!r}) -> {found[0].DisplayName}"

    c.run("current user, its UserProfile, getUserInfo by username and oid", current_user)

    def query_lists():
        crit = ['ScheduleState = "Defined"', "PlanEstimate > 2"]
        resp = rally.get("Story", fetch="FormattedID,Name,ScheduleState,PlanEstimate",
                         query=crit, projectScopeDown=True, order="FormattedID")
        items = list(resp)
        expect(items and len(items) == resp.resultCount, (len(items), resp.resultCount))
        for s in items:
            expect(s.ScheduleState == "Defined" and s.PlanEstimate > 2, (s.FormattedID, s.ScheduleState, s.PlanEstimate))
        three = ['State = "Open"', 'Priority = "High Attention"', "Severity != None"]
        defects = list(rally.get("Defect", fetch="FormattedID,State,Priority,Severity", query=three,
                                 projectScopeDown=True))
        for d in defects:
            expect(d.State == "Open" and d.Priority == "High Attention" and d.Severity != "None",
                   (d.FormattedID, d.State, d.Priority, d.Severity))
        subset = list(rally.get("Story", fetch="FormattedID,ScheduleState",
                                query="ScheduleState in Completed,Accepted", projectScopeDown=True))
        expect(subset and all(s.ScheduleState in ("Completed", "Accepted") for s in subset), len(subset))
        not_in = list(rally.get("Task", fetch="FormattedID,State",
                                query="State !in Defined,Completed", projectScopeDown=True))
        expect(not_in and all(t.State == "In-Progress" for t in not_in), len(not_in))
        by_dict = list(rally.get("Defect", fetch="FormattedID,Priority", query={"Priority": "Low"},
                                 projectScopeDown=True))
        expect(by_dict and all(d.Priority == "Low" for d in by_dict), len(by_dict))
        feats = list(rally.get("Feature", fetch="FormattedID,Name,State", query='State.Name = "Developing"',
                               projectScopeDown=True))
        expect(feats and all(f.State.Name == "Developing" for f in feats), len(feats))
        return (f"{len(items)} stories (list of 2), {len(defects)} defects (list of 3), {len(subset)} (in), "
                f"{len(not_in)} tasks (!in), {len(by_dict)} (dict), {len(feats)} features (State.Name)")

    c.run("queries with pyral's query lists, dicts, in / !in and dot paths", query_lists)

    def paging():
        resp = rally.get("Story", fetch="FormattedID", pagesize=200, projectScopeDown=False)
        ids = [s.FormattedID for s in resp]
        expect(resp.resultCount > 2000, resp.resultCount)
        expect(len(ids) == resp.resultCount, (len(ids), resp.resultCount))
        expect(len(set(ids)) == len(ids), "duplicates across pages")
        big = rally.get("Story", fetch="FormattedID", pagesize=2000, projectScopeDown=False)
        ids2 = [s.FormattedID for s in big]
        expect(sorted(ids2) == sorted(ids), (len(ids2), len(ids)))
        return f"{len(ids)} stories in pages of 200 (threaded) and 2000, no duplicates, none missing"

    c.run("paging past 2,000 items", paging)

    def allowed_values():
        schema = rally.contextHelper.getSchemaItem("Defect")
        prio = [a for a in schema.Attributes if a.ElementName == "Priority"][0]
        ref = prio.AllowedValues if isinstance(prio.AllowedValues, str) else ""
        expect(not ref or re.search(r"/AttributeDefinition/-\d+/AllowedValues$", ref, re.I), ref)
        priorities = rally.getAllowedValues("Defect", "Priority")
        expect(priorities == ["None", "Resolve Immediately", "High Attention", "Normal", "Low"], priorities)
        states = rally.getAllowedValues("Story", "ScheduleState")
        expect(states == ["Defined", "In-Progress", "Completed", "Accepted"], states)
        sev = rally.getAllowedValues("Defect", "Severity")
        expect("Crash/Data Loss" in sev, sev)
        td = rally.typedef("PortfolioItem/Feature")
        expect(td.TypePath == "PortfolioItem/Feature" and td.IDPrefix == "F", (td.TypePath, td.IDPrefix))
        fstates = [s.Name for s in rally.getStates("Feature")]
        expect(fstates == ["Discovering", "Developing", "Measuring", "Done"], fstates)
        return f"Priority {priorities}; Feature states {fstates}; AllowedValues ref {ref.rsplit('/v2.0/', 1)[-1]}"

    c.run("allowed values (schema, negative AttributeDefinition ObjectIDs, State)", allowed_values)

    def tag():
        t = rally.create("Tag", {"Name": "pyral-" + secrets.token_hex(3)})
        state["tag"] = t
        found = rally.get("Tag", fetch="Name", query=f'Name = "{t.Name}"', instance=True)
        expect(found.oid == t.oid, (found.oid, t.oid))
        return t.Name

    c.run("create a tag", tag)

    def story_crud():
        tag = state["tag"]
        s = rally.create("Story", {"Name": "pyral story", "ScheduleState": "Defined", "PlanEstimate": 3,
                                   "Description": "<p>made by <b>pyral</b></p>", "Tags": [tag.ref]})
        state["story"] = s
        expect(s.FormattedID.startswith("US"), s.FormattedID)
        expect([t.Name for t in s.Tags] == [tag.Name], [t.Name for t in s.Tags])
        u = rally.update("Story", {"ObjectID": s.oid, "ScheduleState": "In-Progress", "PlanEstimate": 5})
        expect(u.ScheduleState == "In-Progress" and u.PlanEstimate == 5, (u.ScheduleState, u.PlanEstimate))
        expect(u.InProgressDate is not None, "InProgressDate not set")
        u2 = rally.update("Story", {"FormattedID": s.FormattedID, "Notes": "updated by FormattedID"})
        expect(u2.Notes == "updated by FormattedID", u2.Notes)
        return f"{s.FormattedID} created with a tag, updated by ObjectID and by FormattedID"

    c.run("story: create, update", story_crud)

    def defect_crud():
        s = state["story"]
        d = rally.create("Defect", {"Name": "pyral defect", "Priority": "High Attention",
                                    "Severity": "Major Problem", "Requirement": s.ref})
        state["defect"] = d
        expect(d.FormattedID.startswith("DE") and d.State == "Submitted", (d.FormattedID, d.State))
        expect(d.Requirement.oid == s.oid, d.Requirement)
        u = rally.update("Defect", {"ObjectID": d.oid, "State": "Closed", "Resolution": "Code Change"})
        expect(u.State == "Closed" and u.ClosedDate, (u.State, u.ClosedDate))
        try:
            rally.update("Defect", {"ObjectID": d.oid, "Priority": "Whenever"})
            raise AssertionError("an invalid Priority was accepted")
        except AssertionError:
            raise
        except Exception as ex:
            expect("Priority" in str(ex), str(ex))
        return f"{d.FormattedID} on {s.FormattedID}, closed; an invalid Priority is refused"

    c.run("defect: create, update, validation error", defect_crud)

    def task_crud():
        s = state["story"]
        t = rally.create("Task", {"Name": "pyral task", "WorkProduct": s.ref, "Estimate": 4})
        state["task"] = t
        expect(t.FormattedID.startswith("TA") and t.WorkProduct.oid == s.oid, (t.FormattedID, t.WorkProduct))
        u = rally.update("Task", {"ObjectID": t.oid, "State": "Completed", "ToDo": 0})
        expect(u.State == "Completed" and u.ToDo == 0, (u.State, u.ToDo))
        story = rally.get("Story", fetch="FormattedID,Tasks", query=f"ObjectID = {s.oid}", instance=True)
        expect([x.FormattedID for x in story.Tasks] == [t.FormattedID], story.Tasks)
        return f"{t.FormattedID} on {s.FormattedID}; the story's Tasks collection lists it"

    c.run("task: create, update, parent's collection", task_crud)

    def feature_crud():
        developing = rally.getState("Feature", "Developing")
        f = rally.create("Feature", {"Name": "pyral feature", "State": developing.ref})
        state["feature"] = f
        expect(f.FormattedID.startswith("F") and f.State.Name == "Developing", (f.FormattedID, f.State))
        done = rally.getState("Feature", "Done")
        u = rally.update("PortfolioItem/Feature", {"ObjectID": f.oid, "State": done.ref, "Name": "pyral feature 2"})
        expect(u.State.Name == "Done" and u.Name == "pyral feature 2", (u.State.Name, u.Name))
        s = state["story"]
        rally.update("Story", {"ObjectID": s.oid, "PortfolioItem": f._ref})
        again = rally.get("Feature", fetch="FormattedID,UserStories", query=f"ObjectID = {f.oid}", instance=True)
        expect([x.oid for x in again.UserStories] == [s.oid], again.UserStories)
        return f"{f.FormattedID} (single GET wrapped as Feature), State Developing -> Done, holds {s.FormattedID}"

    c.run("feature: create, update, user stories", feature_crud)

    def tags_collection():
        s, f = state["story"], state["feature"]
        extra = rally.create("Tag", {"Name": "pyral-" + secrets.token_hex(3)})
        upd = rally.addCollectionItems(s, "Tags", [extra])
        names = sorted(t.Name for t in upd.Tags)
        expect(names == sorted([state["tag"].Name, extra.Name]), names)
        # A feature as a query returns it: `_type` PortfolioItem/Feature. (One straight from
        # create/update is re-read by a single GET, whose object has no `_type`, as recorded;
        # pyral then derives a lower-case type path that its own get() refuses.)
        f = rally.get("Feature", fetch="FormattedID,Name,Tags", query=f"ObjectID = {f.oid}", instance=True)
        upd_f = rally.addCollectionItems(f, "Tags", [extra])
        expect([t.Name for t in upd_f.Tags] == [extra.Name], upd_f.Tags)
        rally.dropCollectionItems(s, "Tags", [state["tag"]])
        after = rally.get("Story", fetch="Tags", query=f"ObjectID = {s.oid}", instance=True)
        expect([t.Name for t in after.Tags] == [extra.Name], [t.Name for t in after.Tags])
        tagged = list(rally.get("Artifact", fetch="FormattedID", query=f'Tags.Name = "{extra.Name}"',
                                projectScopeDown=True))
        expect(sorted(x.FormattedID for x in tagged) == sorted([s.FormattedID, f.FormattedID]), tagged)
        return f"addCollectionItems on a story and a feature, dropCollectionItems, Tags.Name query"

    c.run("tags: add to / drop from collections", tags_collection)

    def posts():
        s = state["story"]
        p1 = rally.create("ConversationPost", {"Artifact": s.ref, "Text": "<p>first from pyral</p>"})
        p2 = rally.create("ConversationPost", {"Artifact": s.ref, "Text": "<p>second</p>"})
        expect((p1.PostNumber, p2.PostNumber) == (1, 2), (p1.PostNumber, p2.PostNumber))
        expect(p1.User.UserName == OWNER, p1.User)
        story = rally.get("Story", fetch="FormattedID,Discussion", query=f"ObjectID = {s.oid}", instance=True)
        texts = [p.Text for p in story.Discussion]
        expect(texts == ["<p>first from pyral</p>", "<p>second</p>"], texts)
        return f"2 posts on {s.FormattedID}, read back through Discussion (collection without fetch)"

    c.run("discussion posts", posts)

    def deletes():
        done = []
        for kind, key in (("Task", "task"), ("Defect", "defect"), ("Story", "story"), ("PortfolioItem/Feature", "feature")):
            item = state[key]
            ident = item.FormattedID if kind == "Defect" else item.oid
            expect(rally.delete(kind, ident) is True, f"delete {kind}")
            gone = rally.get(kind, fetch="ObjectID", query=f"ObjectID = {item.oid}", projectScopeDown=True)
            expect(gone.resultCount == 0, f"{kind} {item.oid} still there")
            done.append(item.FormattedID)
        expect(rally.delete("Story", state["story"].oid) is False, "deleting a deleted story succeeded")
        return f"deleted {', '.join(done)} (the defect by FormattedID); a second delete reports failure"

    c.run("delete each of the four types", deletes)

    def exercised():
        import requests
        stats = requests.get(info["url"] + "/__sim/stats", verify=info["caFile"], timeout=10).json()
        routes = stats["byRoute"]
        print(f"     {stats['total']} requests, {len(routes)} routes, at most {stats['maxInFlight']} in flight:")
        for route, n in sorted(routes.items()):
            print(f"       {n:5d}  {route}")
        expect(any("/slm/schema/v2.0/workspace/" in r for r in routes), "schema endpoint not used")
        return None

    c.run("request summary", exercised)

    proc.stdin.close()
    proc.wait(timeout=10)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
