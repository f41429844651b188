package dev.weir.alerting.api;

import dev.weir.common.web.ApiDocuments;
import io.swagger.v3.oas.models.OpenAPI;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The OpenAPI document of the alerting API (/v3/api-docs), generated from its controller. */
@Configuration
public class OpenApiDocument {

    @Bean
    OpenAPI alertingApi() {
        return ApiDocuments.document("Weir alerting API", "Alert rules over Weir's flows and DNS windows, the alerts they "
                + "raise, silences and inhibitions, and signed webhook receivers with their deliveries.");
    }
}
