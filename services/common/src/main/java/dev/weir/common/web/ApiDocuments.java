package dev.weir.common.web;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.BooleanSchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.GlobalOpenApiCustomizer;
import org.springdoc.core.customizers.GlobalOperationCustomizer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;

/**
 * What every Weir OpenAPI document says the same way, so a client generator can use it: the
 * bearer scheme required by every operation; the errors every operation can answer, as RFC 9457
 * problem details with Weir's {@code error} and {@code field} members; and a record bound from
 * the query (the relay's flow filters) described as its real, separate parameters with their wire
 * names, types and descriptions rather than as one object.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "org.springdoc.core.customizers.GlobalOpenApiCustomizer")
public class ApiDocuments {

    public static final String BEARER = "bearer";
    public static final String PROBLEM = "Problem";
    static final String PROBLEM_JSON = "application/problem+json";

    /** A service's document: its title and what it is for; the conventions are added to it. */
    public static OpenAPI document(String title, String description) {
        return new OpenAPI().info(new io.swagger.v3.oas.models.info.Info().title(title).version("v1").description(description)
                .license(new io.swagger.v3.oas.models.info.License().name("Apache-2.0")));
    }

    @Bean
    GlobalOpenApiCustomizer weirApiConventions() {
        return ApiDocuments::conventions;
    }

    @Bean
    GlobalOperationCustomizer queryRecordsAsParameters() {
        return (operation, handler) -> {
            for (MethodParameter parameter : handler.getMethodParameters()) {
                if (ApiParameters.boundFromQuery(parameter)) {
                    flatten(operation, parameter.getParameterName(), parameter.getParameterType());
                }
            }
            return operation;
        };
    }

    static void conventions(OpenAPI api) {
        Components components = api.getComponents() == null ? new Components() : api.getComponents();
        api.setComponents(components);
        if (components.getSecuritySchemes() == null || !components.getSecuritySchemes().containsKey(BEARER)) {
            components.addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                    .description("An API token: the admin token (.weir/secrets/api-token on the embedded platform) or one "
                            + "from weir.api-tokens-file, whose scope (read, write, admin) decides what it may do."));
        }
        if (api.getSecurity() == null || api.getSecurity().isEmpty()) {
            api.addSecurityItem(new SecurityRequirement().addList(BEARER));
        }
        components.addSchemas(PROBLEM, problemSchema());
        if (api.getPaths() == null) {
            return;
        }
        for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
            for (Operation operation : path.getValue().readOperations()) {
                ApiResponses responses = operation.getResponses() == null ? new ApiResponses() : operation.getResponses();
                operation.setResponses(responses);
                problem(responses, "400", "The request is wrong: a parameter or the body (the field names it).");
                problem(responses, "401", "No API token, or one that is not valid.");
                problem(responses, "403", "The token's scope does not allow this.");
                if (path.getKey().contains("{")) {
                    problem(responses, "404", "Nothing by that name.");
                }
                if (operation.getRequestBody() != null) {
                    problem(responses, "413", "The body is larger than the service takes (weir.max-request-bytes).");
                    problem(responses, "415", "The body's Content-Type is not one this operation reads.");
                }
                problem(responses, "500", "The service failed; the log says why.");
            }
        }
    }

    private static void problem(ApiResponses responses, String status, String description) {
        ApiResponse existing = responses.get(status);
        Content content = new Content().addMediaType(PROBLEM_JSON,
                new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM)));
        if (existing == null) {
            responses.addApiResponse(status, new ApiResponse().description(description).content(content));
        } else if (existing.getContent() == null || existing.getContent().containsKey("*/*")) {
            existing.setContent(content);
            if (existing.getDescription() == null || existing.getDescription().isBlank()
                    || existing.getDescription().equals(defaultDescription(status))) {
                existing.setDescription(description);
            }
        }
    }

    private static String defaultDescription(String status) {
        return switch (status) {
            case "400" -> "Bad Request";
            case "404" -> "Not Found";
            case "500" -> "Internal Server Error";
            default -> "";
        };
    }

    static Schema<?> problemSchema() {
        return new ObjectSchema().description("An RFC 9457 problem, with Weir's members error and field.")
                .addProperty("type", new StringSchema().description("A URI naming the kind of problem (about:blank)."))
                .addProperty("title", new StringSchema().description("The HTTP status's title."))
                .addProperty("status", new IntegerSchema().description("The HTTP status."))
                .addProperty("detail", new StringSchema().description("What is wrong."))
                .addProperty("instance", new StringSchema().description("The request's path."))
                .addProperty("error", new StringSchema().description("What is wrong (the same as detail)."))
                .addProperty("field", new StringSchema().description("The parameter, header or body field at fault; empty "
                        + "when none is."));
    }

    /** Replaces the one object parameter springdoc makes of a query record with its components. */
    static void flatten(Operation operation, String name, Class<?> record) {
        List<Parameter> parameters = operation.getParameters() == null ? new ArrayList<>()
                : new ArrayList<>(operation.getParameters());
        parameters.removeIf(p -> java.util.Objects.equals(name, p.getName()));
        RecordComponent[] components = record.getRecordComponents();
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            String wire = ApiParameters.wireName(record, i);
            io.swagger.v3.oas.annotations.Parameter described = describedBy(record, component);
            Parameter parameter = new Parameter().in("query").name(wire).required(false)
                    .description(described == null ? null : described.description()).schema(schemaOf(component));
            if (component.getType() == List.class) {
                parameter.explode(true).style(Parameter.StyleEnum.FORM);
            }
            if (described != null && !described.example().isEmpty()) {
                parameter.example(described.example());
            }
            parameters.add(parameter);
        }
        operation.setParameters(parameters);
    }

    /** A component's @Parameter: it targets fields, so on a record it lands on the private field. */
    private static io.swagger.v3.oas.annotations.Parameter describedBy(Class<?> record, RecordComponent component) {
        try {
            return record.getDeclaredField(component.getName()).getAnnotation(io.swagger.v3.oas.annotations.Parameter.class);
        } catch (NoSuchFieldException e) {
            return null;
        }
    }

    private static Schema<?> schemaOf(RecordComponent component) {
        Class<?> type = component.getType();
        if (type == List.class && component.getGenericType() instanceof ParameterizedType list) {
            return new ArraySchema().items(list.getActualTypeArguments()[0] instanceof Class<?> item ? scalar(item)
                    : new StringSchema());
        }
        return scalar(type);
    }

    private static Schema<?> scalar(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return new IntegerSchema();
        }
        if (type == Boolean.class || type == boolean.class) {
            return new BooleanSchema();
        }
        return new StringSchema();
    }
}
