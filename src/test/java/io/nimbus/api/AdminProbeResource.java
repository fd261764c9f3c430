package io.nimbus.api;

import io.quarkus.arc.properties.IfBuildProperty;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

/**
 * A stand-in for the topology operations still to come (decommission, remove), present only in
 * {@link ClientAuthTest}'s application: an endpoint no access rule lists, which must therefore be admin-only.
 */
@Path("/v1/cluster/test-only/admin-probe")
@IfBuildProperty(name = "test-only.admin-probe", stringValue = "true")
public class AdminProbeResource {
    @POST
    public Response probe() {
        return Response.accepted().build();
    }
}
