package io.nimbus.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The output of {@code kubectl kustomize k8s/}, every document parsed into its typed fabric8 model by a
 * parser that refuses what the model does not know: a misspelled or misplaced field fails here instead of
 * being dropped (or kept aside) on the way to the API server.
 */
final class RenderedManifests {

    /** The kinds k8s/ may render, by {@code apiVersion/kind}; anything else fails (add it here with its model). */
    private static final Map<String, Class<? extends HasMetadata>> MODELS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "apps/v1/StatefulSet", StatefulSet.class,
            "apps/v1/Deployment", Deployment.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

    private static final long RENDER_TIMEOUT_SECONDS = 60;

    final String text;
    final List<HasMetadata> resources;

    private RenderedManifests(String text, List<HasMetadata> resources) {
        this.text = text;
        this.resources = List.copyOf(resources);
    }

    /** Renders {@code dir} with kubectl's built-in kustomize and parses every document strictly. */
    static RenderedManifests render(Path dir) throws IOException, InterruptedException {
        if (!Files.isRegularFile(dir.resolve("kustomization.yaml"))) {
            throw new AssertionError("no kustomization.yaml in " + dir.toAbsolutePath());
        }
        String text = kustomize(dir);
        return new RenderedManifests(text, parse(text));
    }

    /** Parses multi-document YAML into typed models; unknown kinds and unknown fields are errors. */
    static List<HasMetadata> parse(String yaml) throws IOException {
        ObjectMapper mapper = strictMapper();
        List<HasMetadata> out = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = mapper.readerFor(JsonNode.class).readValues(yaml)) {
            int index = 0;
            while (docs.hasNextValue()) {
                JsonNode doc = docs.nextValue();
                index++;
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                Class<? extends HasMetadata> model = MODELS.get(key);
                if (model == null) {
                    throw new AssertionError("document " + index + " (" + doc.path("metadata").path("name").asText()
                            + ") is a " + key + ", which this test has no model for: add it to RenderedManifests.MODELS");
                }
                out.add(mapper.treeToValue(doc, model));
            }
        }
        return out;
    }

    /**
     * Jackson failing on unknown properties. fabric8's models keep unknown fields in an
     * {@code additionalProperties} map through {@code @JsonAnySetter}, which Jackson consults before
     * FAIL_ON_UNKNOWN_PROPERTIES; the introspector below ignores that annotation so that they fail instead.
     */
    static ObjectMapper strictMapper() {
        YAMLMapper mapper = new YAMLMapper();
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        mapper.setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
            @Override
            public Boolean hasAnySetter(Annotated a) {
                return Boolean.FALSE;
            }
        });
        return mapper;
    }

    private static String kustomize(Path dir) throws IOException, InterruptedException {
        String kubectl = findKubectl();
        File err = File.createTempFile("kubectl-kustomize", ".err");
        try {
            Process p = new ProcessBuilder(kubectl, "kustomize", dir.toString())
                    .redirectError(err)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(RENDER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(kubectl + " kustomize " + dir + " did not finish in " + RENDER_TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(kubectl + " kustomize " + dir + " failed (exit " + p.exitValue() + "):\n"
                        + Files.readString(err.toPath()));
            }
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err.toPath());
        }
    }

    /** {@code -Dnimbus.kubectl=...}, else kubectl on the PATH; its absence is a failure, never a skip. */
    private static String findKubectl() {
        String configured = System.getProperty("nimbus.kubectl");
        if (configured != null && !configured.isBlank()) {
            if (!Files.isExecutable(Path.of(configured))) {
                throw new AssertionError("-Dnimbus.kubectl=" + configured + " is not an executable file");
            }
            return configured;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, "kubectl"))) {
                return Path.of(entry, "kubectl").toString();
            }
        }
        throw new AssertionError("kubectl is not on the PATH (" + path + "): it renders k8s/ (kubectl kustomize) for "
                + "this test. Install kubectl, or point -Dnimbus.kubectl= at it");
    }
}
