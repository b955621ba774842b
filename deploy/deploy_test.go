package deploy_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/rulefmt"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/teamslink/teamslink/internal/config"
)

// update rewrites kubernetes/rules/prometheusrule.yaml from
// prometheus/alerts.yaml: go test ./deploy -update
var update = flag.Bool("update", false, "rewrite kubernetes/rules/prometheusrule.yaml from prometheus/alerts.yaml")

const (
	kubeDir        = "kubernetes"
	ruleManifest   = "kubernetes/rules/prometheusrule.yaml"
	clientIDKey    = "azure.workload.identity/client-id"
	useLabel       = "azure.workload.identity/use"
	nameLabel      = "app.kubernetes.io/name"
	configMountKey = "tenants.yaml"
)

// kustomization is the part of a kustomization.yaml these bases use;
// decoding it strictly refuses anything else.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// object is one decoded manifest.
type object struct {
	file string
	kind string
	name string
	obj  any
}

// newObject returns a pointer to the API type of apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, true
	}
	return nil, false
}

// documents splits a YAML stream at its --- lines.
func documents(data []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decode decodes every document of a manifest file strictly into its API
// type: an unknown or misspelt key, a duplicate key or a wrong type fails.
func decode(t *testing.T, file string, data []byte) []object {
	t.Helper()
	var out []object
	for i, doc := range documents(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s document %d: %v", file, i, err)
		}
		obj, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			t.Fatalf("%s document %d: %s %s is not a kind these tests know", file, i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i, tm.Kind, err)
		}
		var name string
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
			if m.GetNamespace() != "" {
				t.Errorf("%s: %s %s sets namespace %q; the namespace is kustomize's (or -n)", file, tm.Kind, name, m.GetNamespace())
			}
			if m.GetLabels()[nameLabel] != "teamslink" {
				t.Errorf("%s: %s %s has no label %s: teamslink", file, tm.Kind, name, nameLabel)
			}
		}
		out = append(out, object{file: file, kind: tm.Kind, name: name, obj: obj})
	}
	return out
}

// overlay decodes a kustomization directory and, depth first, the
// directories it lists: the objects `kubectl kustomize dir` builds, before
// its transformations. Every file it lists must exist, and every manifest
// in the directory must be listed.
func overlay(t *testing.T, dir string) []object {
	t.Helper()
	kfile := filepath.Join(dir, "kustomization.yaml")
	data, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("%s: %v", kfile, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s: %s %s", kfile, k.APIVersion, k.Kind)
	}
	listed := map[string]bool{}
	var out []object
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: resource %s: %v", kfile, r, err)
		}
		if fi.IsDir() {
			out = append(out, overlay(t, p)...)
			continue
		}
		listed[filepath.Base(p)] = true
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, decode(t, p, data)...)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !listed[b] {
			t.Errorf("%s is not listed in %s", f, kfile)
		}
	}
	return out
}

// find returns the one object of type T named name ("" for the only one).
func find[T any](t *testing.T, objs []object, name string) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok && (name == "" || o.name == name) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%d objects of type %T named %q, want 1", len(found), zero, name)
	}
	return found[0]
}

// TestManifestsDecode decodes every manifest under kubernetes/ strictly,
// whether or not a kustomization lists it.
func TestManifestsDecode(t *testing.T) {
	t.Parallel()
	n := 0
	err := filepath.WalkDir(kubeDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n += len(decode(t, p, data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("only %d manifests under %s", n, kubeDir)
	}
}

// flags splits a container's args into the subcommand and its --name=value
// flags. Every flag is one --name=value item, so that a value can never be
// taken for a flag or the other way round.
func flags(t *testing.T, args []string) (string, map[string]string) {
	t.Helper()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		t.Fatalf("args %q: want the subcommand first", args)
	}
	out := map[string]string{}
	for _, a := range args[1:] {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("arg %q: want --name=value", a)
			continue
		}
		if _, dup := out[name]; dup {
			t.Errorf("flag --%s given twice", name)
		}
		out[name] = value
	}
	return args[0], out
}

// checkPod checks what both workloads need: the workload identity, the
// security settings, tenants.yaml from the ConfigMap, the credentials
// Secret as optional environment, and resources.
func checkPod(t *testing.T, objs []object, meta metav1.ObjectMeta, spec corev1.PodSpec, args map[string]string) {
	t.Helper()
	sa := find[*corev1.ServiceAccount](t, objs, spec.ServiceAccountName)
	if !guid.MatchString(sa.Annotations[clientIDKey]) {
		t.Errorf("ServiceAccount %s: annotation %s = %q, want the app registration's client id", sa.Name, clientIDKey, sa.Annotations[clientIDKey])
	}
	if meta.Labels[useLabel] != "true" {
		t.Errorf("pod label %s = %q, want \"true\": the webhook mutates only pods that have it", useLabel, meta.Labels[useLabel])
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken should be false: teamslink does not call the Kubernetes API")
	}

	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("pod securityContext: want runAsNonRoot and a non-zero runAsUser")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod securityContext: want seccompProfile RuntimeDefault")
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers; want one container", len(spec.Containers), len(spec.InitContainers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container securityContext missing")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("container securityContext: runAsNonRoot should be true")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("container securityContext: readOnlyRootFilesystem should be true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("container securityContext: allowPrivilegeEscalation should be false")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("container securityContext: privileged")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Error("container securityContext: capabilities should drop ALL and add none")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q := c.Resources.Requests[r]; q.IsZero() {
			t.Errorf("resources.requests.%s missing", r)
		}
	}
	if q := c.Resources.Limits[corev1.ResourceMemory]; q.IsZero() {
		t.Error("resources.limits.memory missing")
	}

	// --config is tenants.yaml of the ConfigMap, mounted read-only.
	cfg := args["config"]
	mount := mountOf(t, c, filepath.Dir(cfg))
	if !mount.ReadOnly {
		t.Errorf("volume %s at %s should be read-only", mount.Name, mount.MountPath)
	}
	vol := volumeOf(t, spec, mount.Name)
	if vol.ConfigMap == nil || filepath.Base(cfg) != configMountKey {
		t.Fatalf("--config=%s is not the %s of a ConfigMap volume", cfg, configMountKey)
	}
	cm := find[*corev1.ConfigMap](t, objs, vol.ConfigMap.Name)
	if _, ok := cm.Data[configMountKey]; !ok {
		t.Errorf("ConfigMap %s has no %s", cm.Name, configMountKey)
	}

	// Every path written to is a volume: the root file system is read-only.
	mountOf(t, c, "/tmp")
	secret := false
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			secret = true
			if e.SecretRef.Optional == nil || !*e.SecretRef.Optional {
				t.Errorf("envFrom secret %s should be optional: a fleet on workload identity alone has none", e.SecretRef.Name)
			}
		}
	}
	if !secret {
		t.Error("no envFrom secretRef for the client secrets tenants.yaml names")
	}
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// mountOf returns the volume mount at path.
func mountOf(t *testing.T, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("container %s mounts no volume at %s", c.Name, path)
	return corev1.VolumeMount{}
}

// volumeOf returns the pod's volume named name.
func volumeOf(t *testing.T, spec corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

// selects reports whether sel selects objects with the labels ls.
func selects(t *testing.T, sel *metav1.LabelSelector, ls map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(ls))
}

// TestServe checks the serve base: one pod with its probes, port, report
// volume and security, a Service in front of it and a ServiceMonitor that
// scrapes it.
func TestServe(t *testing.T) {
	t.Parallel()
	objs := overlay(t, filepath.Join(kubeDir, "serve"))
	d := find[*appsv1.Deployment](t, objs, "")
	pod := d.Spec.Template

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1: each pod scans the whole fleet", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate: never two pods on the report volume", d.Spec.Strategy.Type)
	}
	if !selects(t, d.Spec.Selector, pod.Labels) {
		t.Error("the Deployment's selector does not select its pods")
	}
	c := pod.Spec.Containers[0]
	cmd, args := flags(t, c.Args)
	if cmd != "serve" {
		t.Errorf("subcommand %q, want serve", cmd)
	}
	checkPod(t, objs, pod.ObjectMeta, pod.Spec, args)

	// The listen address is the container port, on every interface of the pod.
	host, port, err := net.SplitHostPort(args["web.listen-address"])
	if err != nil || host != "" {
		t.Errorf("--web.listen-address=%q, want :PORT (all of the pod's interfaces): %v", args["web.listen-address"], err)
	}
	if len(c.Ports) != 1 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port || c.Ports[0].Name != "http" {
		t.Fatalf("container ports %+v, want one named http on %s", c.Ports, port)
	}
	// Liveness on /-/healthy, readiness on /-/ready (ready once the config is loaded).
	for name, probe := range map[string]*corev1.Probe{"/-/healthy": c.LivenessProbe, "/-/ready": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || probe.HTTPGet.Port.String() != c.Ports[0].Name {
			var got string
			if probe != nil && probe.HTTPGet != nil {
				got = probe.HTTPGet.Path + " on port " + probe.HTTPGet.Port.String()
			}
			t.Errorf("probe for %s: %q, want an HTTP GET of %s on port http", name, got, name)
		}
	}

	// --report-dir is the persistent volume.
	mount := mountOf(t, c, args["report-dir"])
	if mount.ReadOnly {
		t.Error("the report directory is mounted read-only")
	}
	vol := volumeOf(t, pod.Spec, mount.Name)
	if vol.PersistentVolumeClaim == nil {
		t.Fatalf("volume %s for --report-dir is not a PersistentVolumeClaim", vol.Name)
	}
	pvc := find[*corev1.PersistentVolumeClaim](t, objs, vol.PersistentVolumeClaim.ClaimName)
	if !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
		t.Errorf("PVC %s access modes %v, want ReadWriteOnce", pvc.Name, pvc.Spec.AccessModes)
	}
	if n, err := strconv.Atoi(args["retain"]); err != nil || n < 1 {
		t.Errorf("--retain=%q, want a count", args["retain"])
	}
	for _, f := range []string{"interval", "jitter", "concurrency", "per-tenant"} {
		if args[f] == "" {
			t.Errorf("--%s not set", f)
		}
	}

	svc := find[*corev1.Service](t, objs, "")
	if !selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pod.Labels) {
		t.Error("the Service does not select the pods")
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != c.Ports[0].Name {
		t.Fatalf("Service ports %+v, want one whose targetPort is http", svc.Spec.Ports)
	}
	sm := find[*monitoringv1.ServiceMonitor](t, objs, "")
	if !selects(t, &sm.Spec.Selector, svc.Labels) {
		t.Error("the ServiceMonitor does not select the Service")
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want /metrics on port %s", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
	// The alerts expect job="teamslink" (TeamslinkServeDown).
	if sm.Spec.JobLabel == "" || svc.Labels[sm.Spec.JobLabel] != "teamslink" {
		t.Errorf("ServiceMonitor jobLabel %q: the Service's value %q, want teamslink", sm.Spec.JobLabel, svc.Labels[sm.Spec.JobLabel])
	}
	find[*monitoringv1.PrometheusRule](t, objs, "")
}

// TestFleetScan checks the CronJob: an Indexed Job whose completion index
// is the shard, as many shards as pods, pushing to a Pushgateway.
func TestFleetScan(t *testing.T) {
	t.Parallel()
	objs := overlay(t, filepath.Join(kubeDir, "fleet-scan"))
	cj := find[*batchv1.CronJob](t, objs, "")
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q, want Forbid: two runs would scan every tenant twice", cj.Spec.ConcurrencyPolicy)
	}
	if cj.Spec.TimeZone == nil {
		t.Error("timeZone not set: the schedule would follow the controller's zone")
	}
	job := cj.Spec.JobTemplate.Spec
	if job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode %v, want Indexed", job.CompletionMode)
	}
	if job.Completions == nil || job.Parallelism == nil || *job.Completions != *job.Parallelism || *job.Completions < 1 {
		t.Fatalf("completions %v, parallelism %v: want equal, one pod per shard", job.Completions, job.Parallelism)
	}
	n := *job.Completions
	if job.BackoffLimitPerIndex == nil {
		t.Error("backoffLimitPerIndex not set: one failing shard would use up the Job's retries")
	}
	failJob := false
	if pfp := job.PodFailurePolicy; pfp != nil {
		for _, r := range pfp.Rules {
			if r.Action == batchv1.PodFailurePolicyActionFailJob && r.OnExitCodes != nil && slices.Contains(r.OnExitCodes.Values, 2) {
				failJob = true
			}
		}
	}
	if !failJob {
		t.Error("podFailurePolicy: exit code 2 (usage or config error) should fail the Job, not be retried")
	}

	pod := job.Template
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", pod.Spec.RestartPolicy)
	}
	c := pod.Spec.Containers[0]
	cmd, args := flags(t, c.Args)
	if cmd != "scan" {
		t.Errorf("subcommand %q, want scan", cmd)
	}
	checkPod(t, objs, pod.ObjectMeta, pod.Spec, args)

	if want := fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n); args["shard"] != want {
		t.Errorf("--shard=%q, want %q: K is the 0-based completion index, N the completions", args["shard"], want)
	}
	var index *corev1.EnvVar
	for i, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" {
			index = &c.Env[i]
		}
	}
	wantRef := fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)
	if index == nil || index.ValueFrom == nil || index.ValueFrom.FieldRef == nil || index.ValueFrom.FieldRef.FieldPath != wantRef {
		t.Errorf("env JOB_COMPLETION_INDEX: %+v, want the field %s", index, wantRef)
	}
	if u, err := url.Parse(args["push-gateway"]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		t.Errorf("--push-gateway=%q, want the Pushgateway's base URL (client_golang adds /metrics/job/...)", args["push-gateway"])
	}
	format, file, ok := strings.Cut(args["format"], "=")
	if !ok || format != "json" || !strings.Contains(file, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--format=%q, want json=FILE with the shard in the file name", args["format"])
	} else {
		mountOf(t, c, filepath.Dir(file))
	}
}

// TestExampleConfig loads the example tenants.yaml of the ConfigMap with
// teamslink's own config loader, and checks that its workload-identity
// tenants use the ServiceAccount's app and the webhook's token file.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	objs := overlay(t, filepath.Join(kubeDir, "base"))
	cm := find[*corev1.ConfigMap](t, objs, "")
	sa := find[*corev1.ServiceAccount](t, objs, "")
	cfg, err := config.ParseContext(t.Context(), []byte(cm.Data[configMountKey]), "configmap.yaml "+configMountKey)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[config.Method]bool{}
	for _, tn := range cfg.Tenants {
		methods[tn.Auth.Method] = true
		if tn.Auth.Method != config.MethodWorkloadIdentity {
			continue
		}
		if tn.Auth.ClientID != sa.Annotations[clientIDKey] {
			t.Errorf("tenant %s: clientId %s, but the ServiceAccount's app is %s", tn.ID, tn.Auth.ClientID, sa.Annotations[clientIDKey])
		}
		if tn.Auth.TokenFile != "" {
			t.Errorf("tenant %s: tokenFile %s; leave it out for $AZURE_FEDERATED_TOKEN_FILE, which the webhook sets", tn.ID, tn.Auth.TokenFile)
		}
	}
	for _, m := range []config.Method{config.MethodWorkloadIdentity, config.MethodClientSecret} {
		if !methods[m] {
			t.Errorf("the example has no tenant with method %s", m)
		}
	}
}

// TestPrometheusRuleUpToDate checks that the PrometheusRule holds the rules
// of alerts.yaml: its text is generated from that file (-update rewrites
// it), and it decodes to the same rules.
func TestPrometheusRuleUpToDate(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := prometheusRule(t, src)
	if *update {
		if err := os.WriteFile(ruleManifest, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(ruleManifest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./deploy -update", ruleManifest)
	}

	pr := find[*monitoringv1.PrometheusRule](t, decode(t, ruleManifest, got), "")
	groups := loadRules(t)
	if len(pr.Spec.Groups) != len(groups.Groups) {
		t.Fatalf("%d groups, alerts.yaml has %d", len(pr.Spec.Groups), len(groups.Groups))
	}
	for i, g := range groups.Groups {
		pg := pr.Spec.Groups[i]
		if pg.Name != g.Name || len(pg.Rules) != len(g.Rules) {
			t.Fatalf("group %d: %s with %d rules, want %s with %d", i, pg.Name, len(pg.Rules), g.Name, len(g.Rules))
		}
		for j, r := range g.Rules {
			pr := pg.Rules[j]
			var forD string
			if pr.For != nil {
				forD = string(*pr.For)
			}
			if pr.Alert != r.Alert || pr.Expr.String() != r.Expr || forD != durationOf(r) ||
				!reflect.DeepEqual(pr.Labels, r.Labels) || !reflect.DeepEqual(pr.Annotations, r.Annotations) {
				t.Errorf("group %s rule %d (%s) differs from alerts.yaml", g.Name, j, r.Alert)
			}
		}
	}
}

// durationOf is the rule's for, as written ("" when unset).
func durationOf(r rulefmt.Rule) string {
	if r.For == 0 {
		return ""
	}
	return r.For.String()
}

// prometheusRule is the PrometheusRule manifest of the rule file src: a
// header, then src's groups (comments included) under spec.
func prometheusRule(t *testing.T, src []byte) []byte {
	t.Helper()
	_, body, ok := bytes.Cut(src, []byte("\ngroups:\n"))
	if !ok {
		t.Fatalf("%s: no top-level groups:", alertsFile)
	}
	var b bytes.Buffer
	b.WriteString(`# Generated from deploy/prometheus/alerts.yaml by go test ./deploy -update;
# do not edit by hand. The teamslink alerting rules for the Prometheus
# Operator: its Prometheus picks PrometheusRules by label
# (ruleSelector; kube-prometheus-stack's default wants release: <its release
# name>), so add that label here. The comments of alerts.yaml explain the
# rules; docs/runbooks.md what to do when one fires.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: teamslink
  labels:
    app.kubernetes.io/name: teamslink
spec:
  groups:
`)
	for line := range strings.SplitSeq(strings.TrimRight(string(body), "\n"), "\n") {
		if line != "" {
			b.WriteString("  ")
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// TestKustomizeBuild builds each base with kubectl's kustomize, where
// kubectl is installed, and decodes what it prints strictly: the
// transformations (images, the base's resources) make valid objects too.
func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed; the bases are checked file by file by the other tests")
	}
	for _, dir := range []string{"serve", "fleet-scan", "rules", "base"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			out, err := exec.CommandContext(t.Context(), kubectl, "kustomize", filepath.Join(kubeDir, dir)).Output()
			if err != nil {
				if ee, ok := errors.AsType[*exec.ExitError](err); ok {
					t.Fatalf("kubectl kustomize: %v\n%s", err, ee.Stderr)
				}
				t.Fatal(err)
			}
			objs := decode(t, "kubectl kustomize "+dir, out)
			for _, o := range objs {
				var pod *corev1.PodSpec
				switch v := o.obj.(type) {
				case *appsv1.Deployment:
					pod = &v.Spec.Template.Spec
				case *batchv1.CronJob:
					pod = &v.Spec.JobTemplate.Spec.Template.Spec
				}
				if pod != nil && pod.Containers[0].Image == "teamslink" {
					t.Errorf("%s %s: the images transformer did not set the image", o.kind, o.name)
				}
			}
			if len(objs) == 0 {
				t.Error("kubectl kustomize built nothing")
			}
		})
	}
}
