package dev.weir.common.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.annotation.BindParam;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Query parameters an endpoint does not take are refused with a 400 naming them. Ignoring them
 * would answer a misspelt filter ({@code fromPod=} for {@code from_pod=}) with unfiltered data,
 * which a client cannot tell from a correct answer. What an endpoint takes is read from its
 * handler method: its {@code @RequestParam}s, and the components of a record it binds (named by
 * {@code @BindParam} where the wire name differs).
 */
@Configuration(proxyBeanMethods = false)
public class ApiParameters implements WebMvcConfigurer {

    /** The refusal: the parameters not taken, and those that are. */
    public static final class UnknownParameters extends RuntimeException {
        private final List<String> unknown;

        UnknownParameters(List<String> unknown, Set<String> accepted) {
            super((unknown.size() == 1 ? "unknown parameter " : "unknown parameters ") + String.join(", ", unknown)
                    + (accepted.isEmpty() ? "; this endpoint takes none" : "; this endpoint takes " + String.join(", ", accepted)));
            this.unknown = List.copyOf(unknown);
        }

        public List<String> unknown() {
            return unknown;
        }
    }

    /** At most this many names are reported: a query of thousands costs no more to refuse. */
    private static final int MAX_REPORTED = 5;

    private final Map<Method, Set<String>> accepted = new ConcurrentHashMap<>();

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new HandlerInterceptor() {
            @Override
            public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
                if (handler instanceof HandlerMethod method && method.getBeanType().getName().startsWith("dev.weir.")) {
                    Set<String> takes = accepted.computeIfAbsent(method.getMethod(), m -> accepted(method));
                    if (takes != null) {
                        check(request.getQueryString(), takes);
                    }
                }
                return true;
            }
        });
    }

    /** The names a handler takes; null when it takes any (a {@code @RequestParam Map}). */
    static Set<String> accepted(HandlerMethod method) {
        Set<String> names = new TreeSet<>();
        for (MethodParameter parameter : method.getMethodParameters()) {
            RequestParam param = parameter.getParameterAnnotation(RequestParam.class);
            if (param != null) {
                if (Map.class.isAssignableFrom(parameter.getParameterType())) {
                    return null;
                }
                String name = !param.name().isEmpty() ? param.name() : parameter.getParameterName();
                names.add(name);
            } else if (boundFromQuery(parameter)) {
                names.addAll(recordParameters(parameter.getParameterType()));
            }
        }
        return names;
    }

    /**
     * Whether a handler parameter is a record bound from the query's parameters: a record with no
     * binding annotation (a body, a header, a path variable), {@code @ModelAttribute} aside;
     * {@code @Valid} and documentation annotations do not change how it binds.
     */
    public static boolean boundFromQuery(MethodParameter parameter) {
        if (!parameter.getParameterType().isRecord()) {
            return false;
        }
        for (java.lang.annotation.Annotation a : parameter.getParameterAnnotations()) {
            Class<?> type = a.annotationType();
            if (type.getPackageName().equals("org.springframework.web.bind.annotation")
                    && type != org.springframework.web.bind.annotation.ModelAttribute.class) {
                return false;
            }
        }
        return true;
    }

    /** The wire names of a record bound from the query: {@code @BindParam}'s, else the component's. */
    public static List<String> recordParameters(Class<?> record) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < record.getRecordComponents().length; i++) {
            names.add(wireName(record, i));
        }
        return names;
    }

    /** The wire name of a record's i-th component. */
    static String wireName(Class<?> record, int index) {
        RecordComponent[] components = record.getRecordComponents();
        // @BindParam targets parameters: on a record it lands on the canonical constructor's.
        try {
            Class<?>[] types = java.util.Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
            BindParam bind = record.getDeclaredConstructor(types).getParameters()[index].getAnnotation(BindParam.class);
            return bind == null ? components[index].getName() : bind.value();
        } catch (NoSuchMethodException e) {
            return components[index].getName();
        }
    }

    static void check(String query, Set<String> takes) {
        if (query == null || query.isEmpty()) {
            return;
        }
        List<String> unknown = new ArrayList<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name;
            try {
                name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                name = eq < 0 ? pair : pair.substring(0, eq);
            }
            if (!takes.contains(name) && !unknown.contains(name)) {
                unknown.add(name.length() > 64 ? name.substring(0, 64) + "…" : name);
                if (unknown.size() == MAX_REPORTED) {
                    break;
                }
            }
        }
        if (!unknown.isEmpty()) {
            throw new UnknownParameters(unknown, takes);
        }
    }
}
