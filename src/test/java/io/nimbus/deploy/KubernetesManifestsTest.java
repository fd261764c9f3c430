package io.nimbus.deploy;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodAntiAffinity;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the issue asks of {@code k8s/}, checked on what {@code kubectl kustomize k8s/} renders, parsed into
 * typed Kubernetes models (RenderedManifests): a StatefulSet of workers with a volume each, proxies behind
 * the client Service, one ConfigMap both read, disruption budgets that keep a quorum, locked-down pods,
 * and no Secret that {@code kubectl apply -k} would overwrite.
 */
class KubernetesManifestsTest {

    private static final Path K8S = Path.of("k8s");
    private static final Set<String> LEVELS = Set.of("ONE", "QUORUM", "ALL");
    /** What a Secret value once shipped as; no manifest may carry a well-known secret again. */
    private static final List<String> PLACEHOLDERS = List.of("change-me", "changeme", "CHANGE_ME");
    private static final Pattern CREATE_SECRET = Pattern.compile("kubectl create secret generic ([a-z0-9-]+)");

    private static RenderedManifests rendered;
    private static StatefulSet workers;
    private static Deployment proxies;

    @BeforeAll
    static void render() throws IOException, InterruptedException {
        rendered = RenderedManifests.render(K8S);
        workers = only(StatefulSet.class);
        proxies = only(Deployment.class);
    }

    @Test
    void theParserRefusesMisspelledAndMisplacedFields() {
        // the guard the whole test leans on: a field the model does not have fails, even deep in a pod spec
        String misspelled = """
                apiVersion: v1
                kind: Service
                metadata: {name: x}
                spec: {selectr: {a: b}}
                """;
        assertThrows(UnrecognizedPropertyException.class, () -> RenderedManifests.parse(misspelled));
        String misplaced = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  template:
                    spec:
                      containers:
                        - name: c
                          image: i
                          runAsNonRoot: true
                """;
        assertThrows(UnrecognizedPropertyException.class, () -> RenderedManifests.parse(misplaced));
        assertThrows(AssertionError.class, () -> RenderedManifests.parse("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"));
    }

    @Test
    void workersAreAStatefulSetOfThreeWithAVolumeEachBehindAHeadlessService() {
        var spec = workers.getSpec();
        assertEquals(3, spec.getReplicas(), "worker replicas");
        // later pods join through earlier ones and the founder is pod 0: they must start in order
        assertEquals("OrderedReady", Objects.requireNonNullElse(spec.getPodManagementPolicy(), "OrderedReady"));
        assertFalse(spec.getVolumeClaimTemplates().isEmpty(), "workers need a volume each (volumeClaimTemplates)");
        Container c = container(workers.getSpec().getTemplate());
        String dataDir = env(c, "NIMBUS_DATA_DIR").getValue();
        assertNotNull(dataDir, "NIMBUS_DATA_DIR as a plain value");
        VolumeMount data = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(dataDir)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing is mounted at NIMBUS_DATA_DIR " + dataDir));
        assertTrue(spec.getVolumeClaimTemplates().stream().anyMatch(t -> t.getMetadata().getName().equals(data.getName())),
                "the data directory is not on a volume claim template: " + data.getName());
        assertEquals("worker", env(c, "NIMBUS_ROLE").getValue());

        Service headless = service(spec.getServiceName());
        assertEquals("None", headless.getSpec().getClusterIP(), "the StatefulSet's Service must be headless");
        assertEquals(Boolean.TRUE, headless.getSpec().getPublishNotReadyAddresses(),
                "a joining worker is not ready yet, but its peers must resolve it");
        assertTrue(selects(headless.getSpec().getSelector(), labels(workers.getSpec().getTemplate())));
        assertFalse(selects(headless.getSpec().getSelector(), labels(proxies.getSpec().getTemplate())));
        assertServicePortsExist(headless, c);
    }

    @Test
    void seedsAreAtLeastTwoWorkerPodsThatExistAndTheFounderIsPodZero() {
        var spec = workers.getSpec();
        int clusterPort = port(container(spec.getTemplate()), "cluster");
        Pattern pod = Pattern.compile(Pattern.quote(workers.getMetadata().getName()) + "-(\\d+)\\."
                + Pattern.quote(spec.getServiceName()) + ":(\\d+)");
        for (PodTemplateSpec template : List.of(spec.getTemplate(), proxies.getSpec().getTemplate())) {
            String seeds = env(container(template), "NIMBUS_CLUSTER_SEEDS").getValue();
            Set<Integer> ordinals = new TreeSet<>();
            for (String seed : seeds.split(",")) {
                Matcher m = pod.matcher(seed.trim());
                assertTrue(m.matches(), "seed " + seed + " is not <worker pod>.<headless service>:<port>");
                int ordinal = Integer.parseInt(m.group(1));
                assertTrue(ordinal < spec.getReplicas(), "seed " + seed + ": there are only " + spec.getReplicas() + " workers");
                assertEquals(clusterPort, Integer.parseInt(m.group(2)), "seed " + seed + " is not on the cluster port");
                ordinals.add(ordinal);
            }
            assertTrue(ordinals.size() >= 2, "at least two distinct seeds: " + seeds);
        }
        // pods start one at a time and the next only once this one is ready: a founder other than pod 0
        // would never start, and pod 0 would wait for a topology forever
        assertEquals(workers.getMetadata().getName() + "-0", env(container(spec.getTemplate()), "NIMBUS_CLUSTER_BOOTSTRAP").getValue());
        assertEquals("false", env(container(proxies.getSpec().getTemplate()), "NIMBUS_CLUSTER_BOOTSTRAP").getValue(),
                "a proxy must never found a cluster");
    }

    @Test
    void proxiesAreADeploymentOfAtLeastTwoBehindTheClientService() {
        assertTrue(proxies.getSpec().getReplicas() >= 2, "proxy replicas: " + proxies.getSpec().getReplicas());
        PodSpec pod = proxies.getSpec().getTemplate().getSpec();
        Container c = container(proxies.getSpec().getTemplate());
        assertEquals("proxy", env(c, "NIMBUS_ROLE").getValue());
        assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getPersistentVolumeClaim() != null), "a proxy holds no data");
        assertTrue(c.getEnv().stream().noneMatch(e -> e.getName().equals("NIMBUS_DATA_DIR")), "a proxy has no data directory");

        List<Service> clientServices = rendered.resources.stream().filter(Service.class::isInstance).map(Service.class::cast)
                .filter(s -> selects(s.getSpec().getSelector(), labels(proxies.getSpec().getTemplate()))).toList();
        assertEquals(1, clientServices.size(), "one Service selects the proxies");
        Service client = clientServices.get(0);
        assertFalse(selects(client.getSpec().getSelector(), labels(workers.getSpec().getTemplate())), "the client Service selects workers");
        assertTrue(client.getSpec().getPorts().stream().anyMatch(p -> p.getPort() == 8080), "the client Service serves port 8080");
        assertServicePortsExist(client, c);
    }

    @Test
    void imagesAgreeWithTheRoleTheManifestsSet() {
        // the node refuses to start when NIMBUS_ROLE disagrees with its image: catch the swap here already
        for (PodTemplateSpec template : templates()) {
            Container c = container(template);
            String role = env(c, "NIMBUS_ROLE").getValue();
            assertTrue(c.getImage().startsWith("nimbus/" + role + "-"), c.getImage() + " for role " + role);
        }
    }

    @Test
    void workersAndProxiesReadReplicationFactorAndConsistencyFromOneConfigMap() {
        Set<String> configMaps = new HashSet<>();
        for (PodTemplateSpec template : templates()) {
            Container c = container(template);
            for (String name : List.of("NIMBUS_REPLICATION_FACTOR", "NIMBUS_CONSISTENCY")) {
                EnvVar e = env(c, name);
                assertTrue(e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null,
                        name + " comes from the ConfigMap in " + template.getMetadata().getLabels());
                configMaps.add(e.getValueFrom().getConfigMapKeyRef().getName());
            }
        }
        assertEquals(1, configMaps.size(), "one ConfigMap for workers and proxies: " + configMaps);
        ConfigMap config = configMap(configMaps.iterator().next());
        int rf = Integer.parseInt(config.getData().get(configKey("NIMBUS_REPLICATION_FACTOR")));
        assertTrue(rf >= 1 && rf <= workers.getSpec().getReplicas(), "RF " + rf + " with " + workers.getSpec().getReplicas() + " workers");
        assertTrue(LEVELS.contains(config.getData().get(configKey("NIMBUS_CONSISTENCY"))), "consistency " + config.getData());
    }

    @Test
    void everyConfigMapAndSecretReferenceResolves() throws IOException {
        Set<String> userSecrets = documentedUserSecrets();
        for (PodTemplateSpec template : templates()) {
            PodSpec pod = template.getSpec();
            for (Container c : pod.getContainers()) {
                assertTrue(c.getEnvFrom() == null || c.getEnvFrom().isEmpty(), "envFrom hides which keys a pod reads: use valueFrom");
                for (EnvVar e : c.getEnv()) {
                    if (e.getValueFrom() == null) {
                        continue;
                    }
                    var cm = e.getValueFrom().getConfigMapKeyRef();
                    if (cm != null) {
                        assertTrue(configMap(cm.getName()).getData().containsKey(cm.getKey()), e.getName() + ": no key " + cm.getKey());
                    }
                    var secret = e.getValueFrom().getSecretKeyRef();
                    if (secret != null) {
                        assertTrue(userSecrets.contains(secret.getName()), e.getName() + ": Secret " + secret.getName()
                                + " is not created by a command in both kustomization.yaml and README.md " + userSecrets);
                        assertFalse(Boolean.TRUE.equals(secret.getOptional()), e.getName() + ": a missing secret must stop the pod");
                    }
                }
            }
            for (Volume v : pod.getVolumes()) {
                if (v.getSecret() != null) {
                    assertTrue(userSecrets.contains(v.getSecret().getSecretName()), "volume " + v.getName() + ": Secret "
                            + v.getSecret().getSecretName() + " is not created by a command in both kustomization.yaml and README.md "
                            + userSecrets);
                    assertFalse(Boolean.TRUE.equals(v.getSecret().getOptional()), "volume " + v.getName() + ": a missing secret must stop the pod");
                }
                if (v.getConfigMap() != null) {
                    configMap(v.getConfigMap().getName());
                }
            }
            EnvVar secret = env(container(template), "NIMBUS_CLUSTER_SECRET");
            assertTrue(secret.getValue() == null && secret.getValueFrom() != null && secret.getValueFrom().getSecretKeyRef() != null,
                    "NIMBUS_CLUSTER_SECRET only from a Secret, never a value in the manifests");
        }
    }

    @Test
    void noSecretIsRenderedSoApplyNeverOverwritesTheUsersOwn() {
        // k8s/ renders no Secret: anything rendered is applied, and so replaced, by every `kubectl apply -k`
        List<String> secrets = rendered.resources.stream().filter(Secret.class::isInstance)
                .map(r -> r.getMetadata().getName()).toList();
        assertEquals(List.of(), secrets, "Secrets in k8s/ would overwrite the user's on every apply -k (kustomization.yaml, \"Secrets\")");
        for (String placeholder : PLACEHOLDERS) {
            assertFalse(rendered.text.contains(placeholder), "a well-known secret in the rendered manifests: " + placeholder);
        }
    }

    @Test
    void everyPodAvoidsItsSiblingsPerNode() {
        for (PodTemplateSpec template : templates()) {
            PodAntiAffinity anti = template.getSpec().getAffinity() == null ? null : template.getSpec().getAffinity().getPodAntiAffinity();
            assertNotNull(anti, "podAntiAffinity for " + labels(template));
            List<PodAffinityTerm> terms = new ArrayList<>(anti.getRequiredDuringSchedulingIgnoredDuringExecution());
            anti.getPreferredDuringSchedulingIgnoredDuringExecution().forEach(w -> terms.add(w.getPodAffinityTerm()));
            assertTrue(terms.stream().anyMatch(t -> "kubernetes.io/hostname".equals(t.getTopologyKey())
                            && matches(t.getLabelSelector(), labels(template))),
                    "no anti-affinity term by hostname that selects the pod's own siblings " + labels(template));
        }
    }

    @Test
    void everyPodRunsLockedDown() {
        for (PodTemplateSpec template : templates()) {
            PodSpec pod = template.getSpec();
            PodSecurityContext psc = pod.getSecurityContext();
            assertNotNull(psc, "pod securityContext " + labels(template));
            assertEquals(Boolean.TRUE, psc.getRunAsNonRoot());
            assertEquals(185L, psc.getRunAsUser(), "the JVM images' user");
            assertNotNull(psc.getFsGroup(), "fsGroup: volumes writable by the pod's group");
            assertEquals("RuntimeDefault", psc.getSeccompProfile().getType());
            assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), "nodes do not use the Kubernetes API");
            assertEquals(Boolean.FALSE, pod.getEnableServiceLinks(), "Service links put NIMBUS_* variables into the pod");
            for (Container c : pod.getContainers()) {
                SecurityContext sc = c.getSecurityContext();
                assertNotNull(sc, "container securityContext " + c.getName());
                assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
                assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
                assertTrue(sc.getCapabilities().getDrop().contains("ALL"), "drop ALL capabilities");
                assertTrue(sc.getCapabilities().getAdd().isEmpty(), "no capabilities added");
                assertFalse(Boolean.TRUE.equals(sc.getPrivileged()));
                // a read-only root leaves the JVM only /tmp, which must be an emptyDir
                VolumeMount tmp = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst()
                        .orElseThrow(() -> new AssertionError("read-only root file system without a writable /tmp in " + c.getName()));
                assertNotNull(volume(pod, tmp.getName()).getEmptyDir(), "/tmp is an emptyDir");
            }
        }
    }

    @Test
    void everyContainerHasThreeProbesRequestsAndLimits() {
        Map<String, String> health = Map.of("startup", "/q/health/started", "readiness", "/q/health/ready", "liveness", "/q/health/live");
        for (PodTemplateSpec template : templates()) {
            for (Container c : template.getSpec().getContainers()) {
                Map<String, Probe> probes = new HashMap<>();
                probes.put("startup", c.getStartupProbe());
                probes.put("readiness", c.getReadinessProbe());
                probes.put("liveness", c.getLivenessProbe());
                probes.forEach((kind, probe) -> {
                    assertNotNull(probe, kind + " probe of " + c.getName() + " " + labels(template));
                    HTTPGetAction get = probe.getHttpGet();
                    assertNotNull(get, kind + " probe over HTTP");
                    assertEquals(health.get(kind), get.getPath(), kind + " probe path");
                    assertPortExists(c, get.getPort());
                });
                var requests = c.getResources().getRequests();
                var limits = c.getResources().getLimits();
                assertTrue(requests.containsKey("cpu") && requests.containsKey("memory"), "cpu and memory requests " + requests);
                assertTrue(limits.containsKey("memory"), "a memory limit " + limits);
                assertTrue(bytes(requests.get("memory")).compareTo(bytes(limits.get("memory"))) <= 0, "memory request over its limit");
                // the image's start script caps the heap at JAVA_MAX_MEM_RATIO % of the limit (80 unset); the JVM
                // needs ~200 MiB besides its heap under load (docs/PERFORMANCE.md, "Memory"): both must fit
                EnvVar ratio = c.getEnv().stream().filter(e -> e.getName().equals("JAVA_MAX_MEM_RATIO")).findFirst().orElse(null);
                int percent = ratio == null ? 80 : Integer.parseInt(ratio.getValue());
                BigDecimal limit = bytes(limits.get("memory"));
                BigDecimal heapCap = limit.multiply(BigDecimal.valueOf(percent)).divide(BigDecimal.valueOf(100));
                assertTrue(heapCap.add(BigDecimal.valueOf(200L << 20)).compareTo(limit) <= 0,
                        c.getName() + ": a heap cap of " + percent + "% of " + limits.get("memory") + " leaves less than 200 MiB for the rest of the JVM");
            }
        }
    }

    @Test
    void disruptionBudgetsMatchTheirPodsAndKeepAQuorum() {
        ConfigMap config = configMap(env(container(workers.getSpec().getTemplate()), "NIMBUS_REPLICATION_FACTOR")
                .getValueFrom().getConfigMapKeyRef().getName());
        int rf = Integer.parseInt(config.getData().get(configKey("NIMBUS_REPLICATION_FACTOR")));
        int quorum = rf / 2 + 1;
        PodDisruptionBudget workerBudget = budgetFor(workers.getSpec().getTemplate());
        int replicas = workers.getSpec().getReplicas();
        // any rf - quorum + 1 workers down may include that many replicas of one key: true at any worker count,
        // so check the budget after a scale-up too (minAvailable would not hold there)
        for (int n = replicas; n <= 2 * replicas; n++) {
            int down = allowedDown(workerBudget, n);
            assertTrue(down <= rf - quorum, "with " + n + " workers the budget lets " + down + " go; RF " + rf + " keeps a quorum with "
                    + (rf - quorum) + " down");
        }
        assertTrue(allowedDown(workerBudget, replicas) >= 1, "a budget that allows no disruption blocks every drain");

        int proxyReplicas = proxies.getSpec().getReplicas();
        int proxiesDown = allowedDown(budgetFor(proxies.getSpec().getTemplate()), proxyReplicas);
        assertTrue(proxiesDown >= 1 && proxiesDown < proxyReplicas, proxiesDown + " of " + proxyReplicas + " proxies may go");
    }

    // ---- lookups

    private static List<PodTemplateSpec> templates() {
        return List.of(workers.getSpec().getTemplate(), proxies.getSpec().getTemplate());
    }

    private static <T extends HasMetadata> T only(Class<T> kind) {
        List<T> found = rendered.resources.stream().filter(kind::isInstance).map(kind::cast).toList();
        assertEquals(1, found.size(), "one " + kind.getSimpleName() + " rendered");
        return found.get(0);
    }

    private static <T extends HasMetadata> T named(Class<T> kind, String name) {
        return rendered.resources.stream().filter(kind::isInstance).map(kind::cast)
                .filter(r -> r.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name + " rendered"));
    }

    private static Service service(String name) {
        return named(Service.class, name);
    }

    private static ConfigMap configMap(String name) {
        return named(ConfigMap.class, name);
    }

    /** The ConfigMap key the workers' variable {@code name} reads. */
    private static String configKey(String name) {
        return env(container(workers.getSpec().getTemplate()), name).getValueFrom().getConfigMapKeyRef().getKey();
    }

    private static Container container(PodTemplateSpec template) {
        List<Container> containers = template.getSpec().getContainers();
        assertEquals(1, containers.size(), "one container per pod");
        return containers.get(0);
    }

    private static EnvVar env(Container c, String name) {
        List<EnvVar> found = c.getEnv().stream().filter(e -> e.getName().equals(name)).toList();
        assertEquals(1, found.size(), "env " + name + " once in container " + c.getName());
        return found.get(0);
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static Map<String, String> labels(PodTemplateSpec template) {
        return template.getMetadata().getLabels();
    }

    private static int port(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).mapToInt(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new AssertionError("container " + c.getName() + " has no port " + name));
    }

    private static void assertPortExists(Container c, IntOrString port) {
        assertNotNull(port, "a port");
        if (port.getStrVal() != null) {
            port(c, port.getStrVal());
        } else {
            assertTrue(c.getPorts().stream().anyMatch(p -> p.getContainerPort().equals(port.getIntVal())), "port " + port.getIntVal());
        }
    }

    private static void assertServicePortsExist(Service s, Container c) {
        for (ServicePort p : s.getSpec().getPorts()) {
            assertPortExists(c, p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort()));
        }
    }

    /** A Service's selector: non-empty, and every pair among the labels. */
    private static boolean selects(Map<String, String> selector, Map<String, String> labels) {
        return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
    }

    /** A label selector as Kubernetes evaluates it; an empty one would select every pod and is refused here. */
    private static boolean matches(LabelSelector selector, Map<String, String> labels) {
        assertNotNull(selector, "a label selector");
        Map<String, String> matchLabels = selector.getMatchLabels();
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
        assertFalse(matchLabels.isEmpty() && expressions.isEmpty(), "an empty selector selects every pod");
        if (!labels.entrySet().containsAll(matchLabels.entrySet())) {
            return false;
        }
        for (LabelSelectorRequirement r : expressions) {
            String value = labels.get(r.getKey());
            boolean ok = switch (r.getOperator()) {
                case "In" -> value != null && r.getValues().contains(value);
                case "NotIn" -> value == null || !r.getValues().contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default -> throw new AssertionError("unknown selector operator " + r.getOperator());
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static PodDisruptionBudget budgetFor(PodTemplateSpec template) {
        List<PodDisruptionBudget> found = rendered.resources.stream().filter(PodDisruptionBudget.class::isInstance)
                .map(PodDisruptionBudget.class::cast).filter(b -> matches(b.getSpec().getSelector(), labels(template))).toList();
        assertEquals(1, found.size(), "one PodDisruptionBudget selects the pods labelled " + labels(template));
        return found.get(0);
    }

    /** How many of {@code replicas} pods the budget lets a drain take (percentages round up, as Kubernetes does). */
    private static int allowedDown(PodDisruptionBudget budget, int replicas) {
        var spec = budget.getSpec();
        if ((spec.getMaxUnavailable() == null) == (spec.getMinAvailable() == null)) {
            fail("budget " + budget.getMetadata().getName() + " needs exactly one of maxUnavailable and minAvailable");
        }
        if (spec.getMaxUnavailable() != null) {
            return Math.min(replicas, count(spec.getMaxUnavailable(), replicas));
        }
        return Math.max(0, replicas - count(spec.getMinAvailable(), replicas));
    }

    private static int count(IntOrString value, int replicas) {
        if (value.getStrVal() == null) {
            return value.getIntVal();
        }
        String s = value.getStrVal();
        assertTrue(s.endsWith("%"), "a count or a percentage: " + s);
        return new BigDecimal(s.substring(0, s.length() - 1)).multiply(BigDecimal.valueOf(replicas))
                .divide(BigDecimal.valueOf(100), 0, RoundingMode.CEILING).intValueExact();
    }

    private static BigDecimal bytes(Quantity q) {
        return Quantity.getAmountInBytes(q);
    }

    /** Secret names that a {@code kubectl create secret generic NAME} creates in both kustomization.yaml and README.md. */
    private static Set<String> documentedUserSecrets() throws IOException {
        Set<String> documented = createdSecrets(Files.readString(K8S.resolve("kustomization.yaml")));
        documented.retainAll(createdSecrets(Files.readString(Path.of("README.md"))));
        return documented;
    }

    private static Set<String> createdSecrets(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = CREATE_SECRET.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
