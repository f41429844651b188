package dev.weir.common.web;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Caps every request body before anything parses it: a declared length over the cap is answered
 * 413 without reading a byte, and a body without a declared length (chunked) is cut off at the
 * cap, then answered 413 too. Nothing a client sends costs more than the cap in memory.
 */
public final class RequestBodyLimit implements Filter {

    /** One mebibyte: a policy set, a rule pack or a silence is far smaller. */
    public static final long DEFAULT_MAX_BYTES = 1 << 20;

    private final long maxBytes;

    public RequestBodyLimit(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the request body limit must be positive");
        }
        this.maxBytes = maxBytes;
    }

    /** Signals a body cut off at the cap, whatever the reader in between makes of it. */
    public static final class BodyTooLarge extends IOException {
        BodyTooLarge(long maxBytes) {
            super("the request body is larger than " + maxBytes + " bytes");
        }
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        if (request.getContentLengthLong() > maxBytes) {
            refuse(response);
            return;
        }
        Capped capped = new Capped(request, maxBytes);
        // Whatever error a reader in between makes of a cut-off body, the client is told it was too large.
        HttpServletResponse answer = new jakarta.servlet.http.HttpServletResponseWrapper(response) {
            @Override
            public void sendError(int status, String message) throws IOException {
                sendError(status);
            }

            @Override
            public void sendError(int status) throws IOException {
                if (capped.exceeded && !isCommitted()) {
                    resetBuffer();
                    refuse(response);
                    response.flushBuffer();
                } else {
                    super.sendError(status);
                }
            }
        };
        try {
            chain.doFilter(capped, answer);
        } catch (IOException | ServletException | RuntimeException e) {
            if (!capped.exceeded) {
                throw e;
            }
        }
        if (capped.exceeded && !response.isCommitted()) {
            response.resetBuffer();
            refuse(response);
        }
    }

    private void refuse(HttpServletResponse response) throws IOException {
        response.setStatus(413);
        response.setHeader("Connection", "close");
        response.setContentType("application/problem+json");
        response.getWriter().write("{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,"
                + "\"detail\":\"the request body is larger than " + maxBytes + " bytes\"}");
    }

    private static final class Capped extends HttpServletRequestWrapper {
        private final long maxBytes;
        private ServletInputStream stream;
        volatile boolean exceeded;

        Capped(HttpServletRequest request, long maxBytes) {
            super(request);
            this.maxBytes = maxBytes;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                ServletInputStream in = super.getInputStream();
                stream = new ServletInputStream() {
                    private long read;

                    @Override
                    public int read() throws IOException {
                        int b = in.read();
                        if (b >= 0) {
                            count(1);
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] buffer, int offset, int length) throws IOException {
                        int n = in.read(buffer, offset, (int) Math.min(length, maxBytes + 1 - read));
                        if (n > 0) {
                            count(n);
                        }
                        return n;
                    }

                    private void count(int n) throws IOException {
                        read += n;
                        if (read > maxBytes) {
                            exceeded = true;
                            throw new BodyTooLarge(maxBytes);
                        }
                    }

                    @Override
                    public boolean isFinished() {
                        return in.isFinished();
                    }

                    @Override
                    public boolean isReady() {
                        return in.isReady();
                    }

                    @Override
                    public void setReadListener(ReadListener listener) {
                        in.setReadListener(listener);
                    }
                };
            }
            return stream;
        }

        @Override
        public BufferedReader getReader() throws IOException {
            String encoding = getCharacterEncoding();
            Charset charset = StandardCharsets.UTF_8;
            try {
                if (encoding != null) {
                    charset = Charset.forName(encoding);
                }
            } catch (IllegalArgumentException unknown) {
                // a client's made-up charset: read it as UTF-8, as the APIs document
            }
            return new BufferedReader(new InputStreamReader(getInputStream(), charset));
        }
    }
}
