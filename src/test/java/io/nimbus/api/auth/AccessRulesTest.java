package io.nimbus.api.auth;

import org.junit.jupiter.api.Test;

import static io.nimbus.api.auth.ApiRole.ADMIN;
import static io.nimbus.api.auth.ApiRole.READ;
import static io.nimbus.api.auth.ApiRole.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AccessRulesTest {

    @Test
    void keysAreReadWithGetAndHeadAndWrittenWithPutAndDelete() {
        assertEquals(READ, AccessRules.required("GET", "/v1/kv/greeting"));
        assertEquals(READ, AccessRules.required("head", "/v1/kv/greeting"));
        assertEquals(WRITE, AccessRules.required("PUT", "/v1/kv/greeting"));
        assertEquals(WRITE, AccessRules.required("DELETE", "/v1/kv/caf%C3%A9%2Fx"));
        assertEquals(ADMIN, AccessRules.required("POST", "/v1/kv/greeting"));
        assertEquals(ADMIN, AccessRules.required("PATCH", "/v1/kv/greeting"));
    }

    @Test
    void theCompatibilitySetIsAWriteThoughItIsAGet() {
        assertEquals(READ, AccessRules.required("GET", "/get"));
        assertEquals(WRITE, AccessRules.required("GET", "/set"));
    }

    @Test
    void clusterInformationIsARead() {
        assertEquals(READ, AccessRules.required("GET", "/v1/cluster"));
        assertEquals(READ, AccessRules.required("GET", "/v1/cluster/ring"));
        assertEquals(READ, AccessRules.required("GET", "/v1/cluster/topology"));
        assertEquals(READ, AccessRules.required("GET", "/v1/cluster/locate/greeting"));
    }

    @Test
    void topologyOperationsAndAnythingUnlistedNeedAdmin() {
        assertEquals(ADMIN, AccessRules.required("POST", "/v1/cluster/decommission"));
        assertEquals(ADMIN, AccessRules.required("POST", "/v1/cluster/nodes/n2/remove"));
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/cluster/nodes/n2"));
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/admin"));
        // shapes that are not exactly one key segment are not keys
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/kv/"));
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/kv/a/b"));
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/cluster/locate/a/../../decommission"));
        assertEquals(ADMIN, AccessRules.required("GET", "/v1/cluster/"));
    }
}
