package io.nimbus.tools;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** etcd 3.4's JSON gateway: the bodies the load tool sends and how it reads the answers (captured from etcd 3.4.23). */
class EtcdLoadClientTest {

    @Test
    void keysAndValuesAreBase64AndTheCompareIsOnModRevision() {
        String key = EtcdLoadClient.keyBase64("bench-", 42);
        assertEquals("bench-42", new String(Base64.getDecoder().decode(key), StandardCharsets.UTF_8));
        assertEquals("{\"key\":\"Zm9v\",\"value\":\"YmFy\"}", EtcdLoadClient.putBody("Zm9v", "YmFy"));
        assertEquals("{\"key\":\"Zm9v\"}", EtcdLoadClient.rangeBody("Zm9v"), "no serializable flag: linearizable");
        assertEquals("{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\"7\"}],"
                        + "\"success\":[{\"request_put\":{\"key\":\"Zm9v\",\"value\":\"YmFy\"}}]}",
                EtcdLoadClient.casBody("Zm9v", "7", "YmFy"));
    }

    @Test
    void answersAreReadAsEtcdWritesThem() {
        String range = "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
                + "\"revision\":\"2\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\","
                + "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"YmFy\"}],\"count\":\"1\"}";
        assertEquals("2", EtcdLoadClient.modRevision(range));
        String empty = "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"2\",\"raft_term\":\"2\"}}";
        assertNull(EtcdLoadClient.modRevision(empty), "no kvs: the key does not exist");
        String applied = "{\"header\":{\"revision\":\"3\"},\"succeeded\":true,\"responses\":[{\"response_put\":"
                + "{\"header\":{\"revision\":\"3\"}}}]}";
        assertTrue(EtcdLoadClient.succeeded(applied));
        // proto3 JSON leaves a false bool out: a failed compare is an answer without "succeeded"
        assertFalse(EtcdLoadClient.succeeded("{\"header\":{\"revision\":\"3\",\"raft_term\":\"2\"}}"));
    }
}
