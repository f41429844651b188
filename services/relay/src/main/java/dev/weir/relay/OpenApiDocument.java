package dev.weir.relay;

import dev.weir.common.web.ApiDocuments;
import io.swagger.v3.oas.models.OpenAPI;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The OpenAPI document of the relay's REST API (/v3/api-docs), generated from its controllers. */
@Configuration
public class OpenApiDocument {

    @Bean
    OpenAPI relayApi() {
        return ApiDocuments.document("Weir relay API", "The cluster's flows: history by time range from Kafka with Hubble's "
                + "filters, live flows, Hubble's export format, the service map, nodes and namespaces. The relay also "
                + "serves Hubble's Observer API over gRPC, and the web UI at /ui/. The policy, DNS and alerting APIs are "
                + "reachable through it under their own paths; each has its own document.");
    }
}
