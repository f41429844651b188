package dev.weir.dns.api;

import dev.weir.common.web.ApiDocuments;
import io.swagger.v3.oas.models.OpenAPI;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The OpenAPI document of the DNS analytics API (/v3/api-docs), generated from its controller. */
@Configuration
public class OpenApiDocument {

    @Bean
    OpenAPI dnsApi() {
        return ApiDocuments.document("Weir DNS analytics API", "DNS health per namespace and pod (queries, failures by rcode, "
                + "latency percentiles), the top names and clients, and insights: search-path storms, NXDOMAIN, timeouts, "
                + "each with its evidence and fix.");
    }
}
