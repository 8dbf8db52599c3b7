// originalDestination(fd, ipv6) -> [address, port] | undefined
//
// The destination a connection had before an iptables REDIRECT (nat table) sent it to this
// process: getsockopt(SO_ORIGINAL_DST), or IP6T_SO_ORIGINAL_DST for IPv6. N-API only, so one
// build loads in every Node version. Returns undefined when the kernel has no such record (a
// connection that was not redirected, or no conntrack state); throws nothing.
#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

static napi_value result_pair(napi_env env, const char *address, unsigned port) {
  napi_value pair, host, number;
  if (napi_create_array_with_length(env, 2, &pair) != napi_ok) return NULL;
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &host);
  napi_create_uint32(env, port, &number);
  napi_set_element(env, pair, 0, host);
  napi_set_element(env, pair, 1, number);
  return pair;
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return undefined;
  int32_t fd;
  bool ipv6;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_bool(env, argv[1], &ipv6) != napi_ok) return undefined;

  char text[INET6_ADDRSTRLEN];
  if (ipv6) {
    struct sockaddr_in6 address;
    socklen_t length = sizeof(address);
    memset(&address, 0, sizeof(address));
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &address, &length) != 0) return undefined;
    if (inet_ntop(AF_INET6, &address.sin6_addr, text, sizeof(text)) == NULL) return undefined;
    return result_pair(env, text, ntohs(address.sin6_port));
  }
  struct sockaddr_in address;
  socklen_t length = sizeof(address);
  memset(&address, 0, sizeof(address));
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &address, &length) != 0) return undefined;
  if (inet_ntop(AF_INET, &address.sin_addr, text, sizeof(text)) == NULL) return undefined;
  return result_pair(env, text, ntohs(address.sin_port));
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
