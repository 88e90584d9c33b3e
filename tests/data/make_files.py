"""Writes the hostile input files in this folder (run once; the files are committed)."""

import codecs


def w(name: str, data: bytes) -> None:
    with open(name, "wb") as handle:
        handle.write(data)


seed = (
    "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
    "A1,8,7,6\nA2,5,4,3\nA3,10,10,10\nA4,0,0,0\nA5,7.5,2.5,9.9\n"
)
w("seed_headers.csv", seed.encode())
w(
    "gbk_chinese_headers.csv",
    (
        "客户ID,客户名称,价值交付,问题解决,增长战略,月收入,备注\n"
        "K001,王芳,8,7,6,￥800,老客户\nK002,李雷,5,6,4,1200,需要回访\nK003,张伟,9,9,8,,\n"
    ).encode("gbk"),
)
w(
    "excel_bom_semicolon_crlf.csv",
    codecs.BOM_UTF8
    + (
        "Customer ID;Name;Value Delivery;Issue Resolution;Growth Strategy;MRR;Notes\r\n"
        'E1;"Müller, Hans";8;7,5;6;"$1,200.50";"first line\r\nsecond line"\r\n'
        'E2;Zoë;5;5;5;"$80";plain\r\n'
        'E3;"O\'Brien; Ltd";9;9;9;1 200;\r\n'
    ).encode(),
)
w(
    "excel_unicode_text.txt",
    (
        "Customer_ID\tName\tValue_Delivery\tIssue_Resolution\tGrowth_Strategy\tMRR\r\n"
        "U1\tJosé\t8\t7\t6\t100\r\nU2\t王芳\t6\t6\t6\t200\r\n"
    ).encode("utf-16"),
)
w(
    "cr_line_endings.csv",
    b"Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\rR1,8,7,6\rR2,1,2,3\r",
)
w("empty.csv", b"")
w("header_only.csv", seed.splitlines()[0].encode() + b"\n")
w("no_header.csv", b"A1,8,7,6\nA2,5,4,3\n")
w(
    "ragged_rows.csv",
    b"Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
    b"A1,8,7,6\nA2,5,4\nA3,1,2,3,4,5\nA4,1,1,1\n",
)
w(
    "nul_byte.csv",
    b"Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\nA1,8,7,6\nA2,5\x00,4,3\n",
)
w(
    "latin1.csv",
    "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\nL1,José,8,7,6\nL2,Zoë,5,5,5\n".encode(
        "latin-1"
    ),
)
w(  # Windows-1252 that GB18030 also decodes (é + ASCII letter is a valid GB18030 pair)
    "cp1252_semicolon.csv",
    (
        "Customer_ID;Name;Value_Delivery;Issue_Resolution;Growth_Strategy\r\n"
        "W1;Renée Müller;8;7;6\r\nW2;François Lefèvre;5;5;5\r\n"
    ).encode("cp1252"),
)
body16 = "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\nB1,8,7,6\n"
w("utf16_be_bom.csv", codecs.BOM_UTF16_BE + body16.encode("utf-16-be"))
w("utf16_be_no_bom.csv", body16.encode("utf-16-be"))
w(
    "bad_rows.csv",
    (
        b"Customer_ID,Email,Value_Delivery,Issue_Resolution,Growth_Strategy,MRR,Signup_Date,NPS,Open_Tickets\n"
        b"G1,good@example.com,8,7,6,100,2026-01-05,9,0\n"  # line 2: fine
        b"X1,ok@example.com,eight,7,6,100,2026-01-05,9,0\n"  # 3: not a number
        b"X2,ok@example.com,11,7,6,100,2026-01-05,9,0\n"  # 4: out of range
        b"G1,dup@example.com,8,7,6,100,2026-01-05,9,0\n"  # 5: duplicate of line 2
        b",noid@example.com,8,7,6,100,2026-01-05,9,0\n"  # 6: empty ID
        b"X3,not-an-email,8,7,6,100,2026-01-05,9,0\n"  # 7: bad email
        b"X4,ok@example.com,8,7,6,-5,2026-01-05,9,0\n"  # 8: negative MRR
        b"X5,ok@example.com,8,7,6,100,2026-13-45,9,0\n"  # 9: bad date
        b"X6,ok@example.com,8,7,6,100,2026-01-05,11,1.5\n"  # 10: NPS > 10, tickets not whole
        b"X7,ok@example.com,8,,6,100,2026-01-05,9,0\n"  # 11: required value missing
        b"G2,fine@example.com,1,2,3,,,,\n"  # 12: fine
    ),
)
w(
    "blank_lines_quoted_newline.csv",
    b"Customer_ID,Notes,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
    b'A1,"two\nlines",8,7,6\n\nA2,plain,oops,7,6\nA3,"x",1,1,1\n',
)
w(
    "formula_injection.csv",
    (
        "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy,Notes\n"
        'F1,"=HYPERLINK(""http://x"")",8,7,6,+1+1\n'
        "F2,@SUM(A1),5,5,5,-2+3\n"
        "F3,＝1+1,5,5,5,-42\n"
        'F4,Plain,5,5,5,"\tindent"\n'
    ).encode(),
)
w(
    "lowercase_spaced_headers.csv",
    b"customer id;value delivery;issue-resolution;GROWTH STRATEGY;mrr ($)\nS1;8;7;6;10\n",
)
w("not_customer_table.csv", b"date,temperature,city\n2026-01-01,3.5,Oslo\n")
w("binary_garbage.bin", bytes(range(256)) * 4)
w(
    "unterminated_quote.csv",
    b"Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,Notes\n"
    b'A1,8,7,6,"never closed\nA2,5,5,5,x\n',
)
w(
    "money_and_dates.csv",
    (
        "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,MRR,Last_Contact,Renewal_Date\n"
        'M1,8,7,6,"$1,200.50",2026/11/01,2026-12-01T10:30:00\n'
        "M2,8,7,6,¥800,2026-10-01,\n"
        'M3,8,7,6,"1 200",,2027-01-15\n'
        "M4,8,7,6,n/a,N/A,\n"
    ).encode(),
)
w("trailing_empty_rows.csv", seed.encode() + b",,,\n,,,\n")
