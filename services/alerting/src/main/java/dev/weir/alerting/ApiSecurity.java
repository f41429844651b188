package dev.weir.alerting;

import dev.weir.common.auth.BearerTokenFilter;
import java.io.IOException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Every request carries the API token as a bearer token; health probes need none. */
@Configuration
public class ApiSecurity {

    @Bean
    BearerTokenFilter bearerTokenFilter(AlertingProperties properties) throws IOException {
        return BearerTokenFilter.fromFile(properties.apiTokenFile());
    }
}
