package dev.weir.policy.service;

import dev.weir.common.web.ApiDocuments;
import io.swagger.v3.oas.models.OpenAPI;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document of the policy API, served at /v3/api-docs (JSON) and /v3/api-docs.yaml,
 * generated from the controllers so it cannot drift from them. Reading it needs the API token too.
 */
@Configuration
public class OpenApiDocument {

    @Bean
    OpenAPI policyApi() {
        return ApiDocuments.document("Weir policy API", "Apply, inspect and delete network policies; propagation status per "
                + "policy revision; explain a verdict; lint and impact preview of proposed policies. Bodies of apply and "
                + "preview are Kubernetes NetworkPolicy or WeirNetworkPolicy documents, YAML or JSON, several separated by "
                + "'---'. Errors are RFC 9457 problems whose field names the path at fault.");
    }
}
