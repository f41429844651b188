package dev.weir.policy.service;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document of the policy API, served at /v3/api-docs (JSON) and /v3/api-docs.yaml,
 * generated from the controllers so it cannot drift from them. Reading it needs the API token too.
 */
@Configuration
public class OpenApiDocument {

    static final String BEARER = "bearer";

    @Bean
    OpenAPI policyApi() {
        return new OpenAPI()
                .info(new Info().title("Weir policy API").version("v1")
                        .description("Apply, inspect and delete network policies; propagation status per policy revision; "
                                + "explain a verdict; lint and impact preview of proposed policies. Bodies of apply and "
                                + "preview are Kubernetes NetworkPolicy or WeirNetworkPolicy documents, YAML or JSON, "
                                + "several separated by '---'. Errors are {error, field} with the field path at fault.")
                        .license(new License().name("Apache-2.0")))
                .components(new Components().addSecuritySchemes(BEARER, new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP).scheme("bearer")
                        .description("The API token (in .weir/secrets/api-token on the embedded platform)")))
                .addSecurityItem(new SecurityRequirement().addList(BEARER));
    }
}
