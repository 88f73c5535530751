/* Tests of the AWS Query protocol codec: form decoding and the XML it writes. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto_query.h"
#include "test_common.h"

TestSuite(query_params, .fini = cmek_test_fini);
TestSuite(query_xml, .fini = cmek_test_fini);

static int s_parse(const char *text, bool skip, struct emu_query_params *p)
{
    emu_query_params_init(p);
    return emu_query_params_parse(cmek_view_from_cstr(text), skip, p);
}

Test(query_params, decodes_plus_percent_and_empty_values)
{
    struct emu_query_params p;
    cr_assert_eq(s_parse("Action=CreateRole&RoleName=a+b%2Fc&Path=%2F&Empty=&Bare", false, &p),
                 CMEK_OK);
    cr_assert_str_eq(emu_query_param(&p, "Action"), "CreateRole");
    cr_assert_str_eq(emu_query_param(&p, "RoleName"), "a b/c");
    cr_assert_str_eq(emu_query_param(&p, "Path"), "/");
    cr_assert_str_eq(emu_query_param(&p, "Empty"), "");
    cr_assert_str_eq(emu_query_param(&p, "Bare"), "");
    cr_assert_null(emu_query_param(&p, "action"));
    emu_query_params_clean_up(&p);
}

Test(query_params, decodes_botocore_encoded_policy_documents)
{
    struct emu_query_params p;
    cr_assert_eq(s_parse("Doc=%7B%22Version%22%3A+%222012-10-17%22%7D&T=%E2%82%AC~", false, &p),
                 CMEK_OK);
    cr_assert_str_eq(emu_query_param(&p, "Doc"), "{\"Version\": \"2012-10-17\"}");
    cr_assert_str_eq(emu_query_param(&p, "T"), "\xe2\x82\xac~");
    emu_query_params_clean_up(&p);
}

Test(query_params, rejects_bad_escapes_and_encoded_nul)
{
    const char *bad[] = {"A=%zz", "A=%4", "A=%", "A%2=x", "A=a%00b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct emu_query_params p;
        cr_assert_eq(s_parse(bad[i], false, &p), CMEK_ERR_PARSE, "%s", bad[i]);
        emu_query_params_clean_up(&p);
    }
}

Test(query_params, skips_presign_parameters_on_get_and_keeps_first_duplicate)
{
    struct emu_query_params p;
    cr_assert_eq(s_parse("Action=GetCallerIdentity&X-Amz-Signature=ab&A=1&A=2&&", true, &p),
                 CMEK_OK);
    cr_assert_null(emu_query_param(&p, "X-Amz-Signature"));
    cr_assert_str_eq(emu_query_param(&p, "A"), "1");
    cr_assert_eq(p.items.len, 2);
    emu_query_params_clean_up(&p);
}

Test(query_params, caps_the_number_of_parameters)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 1 << 20);
    for (int i = 0; i <= EMU_QUERY_MAX_PARAMS; i++) {
        cr_assert_eq(cmek_buf_appendf(&b, "p%d=v&", i), CMEK_OK);
    }
    struct emu_query_params p;
    cr_assert_eq(s_parse(cmek_buf_cstr(&b), false, &p), CMEK_ERR_LIMIT);
    emu_query_params_clean_up(&p);
    cmek_buf_clean_up(&b);
}

Test(query_xml, escapes_markup_in_text)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 256);
    cr_assert_eq(emu_xml_element(&b, "Message", "a<b>&\"c'"), CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&b), "<Message>a&lt;b&gt;&amp;&quot;c&apos;</Message>");
    cmek_buf_clean_up(&b);
}

Test(query_xml, renders_result_envelope_with_request_id)
{
    struct emu_response r;
    emu_response_init(&r);
    cr_assert_eq(emu_query_render_result(&r, "https://sts.amazonaws.com/doc/2011-06-15/",
                                         "GetCallerIdentity", "<Account>1</Account>", "rid-1"),
                 CMEK_OK);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.content_type, "text/xml");
    cr_assert_str_eq(
        cmek_buf_cstr(&r.body),
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
        "  <GetCallerIdentityResult>\n<Account>1</Account>  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n    <RequestId>rid-1</RequestId>\n"
        "  </ResponseMetadata>\n</GetCallerIdentityResponse>\n");
    cr_assert_str_eq(r.headers[0].name, "x-amzn-RequestId");
    cr_assert_str_eq(r.headers[0].value, "rid-1");
    emu_response_clean_up(&r);
}

Test(query_xml, renders_empty_result_for_operations_without_output)
{
    struct emu_response r;
    emu_response_init(&r);
    cr_assert_eq(emu_query_render_result(&r, "ns", "DeleteRole", NULL, "rid"), CMEK_OK);
    cr_assert_null(strstr(cmek_buf_cstr(&r.body), "DeleteRoleResult"));
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "<RequestId>rid</RequestId>"));
    emu_response_clean_up(&r);
}

Test(query_xml, renders_sender_and_receiver_errors)
{
    struct emu_response r;
    emu_response_init(&r);
    struct emu_query_error e;
    emu_query_error_set(&e, 403, "AccessDenied", "User: %s is <not>", "x");
    cr_assert_eq(emu_query_render_error(&r, "ns", &e, "rid"), CMEK_OK);
    cr_assert_eq(r.status, 403);
    cr_assert_str_eq(
        cmek_buf_cstr(&r.body),
        "<ErrorResponse xmlns=\"ns\">\n  <Error>\n    <Type>Sender</Type>\n"
        "    <Code>AccessDenied</Code>\n    <Message>User: x is &lt;not&gt;</Message>\n"
        "  </Error>\n  <RequestId>rid</RequestId>\n</ErrorResponse>\n");
    emu_query_error_set(&e, 500, "ServiceFailure", "boom");
    cmek_buf_reset(&r.body);
    cr_assert_eq(emu_query_render_error(&r, "ns", &e, "rid"), CMEK_OK);
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "<Type>Receiver</Type>"));
    emu_response_clean_up(&r);
}
